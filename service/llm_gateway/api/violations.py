"""Collects field violations while a request is translated, so that one
INVALID_ARGUMENT names every problem at once (google.rpc.BadRequest)."""

from __future__ import annotations

from typing import Any

import orjson

from ..core.errors import FieldViolation, InvalidRequest


class Violations:
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.items.append(FieldViolation(field, description))

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidRequest(self.items)

    def json_object(self, text: str, field: str, *, required: bool = False
                    ) -> dict[str, Any] | None:
        """Parses JSON text that must be an object; records a violation if not."""
        if not text:
            if required:
                self.add(field, "required")
            return None
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            self.add(field, f"not valid JSON ({exc.msg if hasattr(exc, 'msg') else exc})")
            return None
        if not isinstance(value, dict):
            self.add(field, "must be a JSON object")
            return None
        return value

"""BatchChat: many chat requests, a bounded number at a time, each result
delivered as it finishes. One item's failure is that item's result only."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from llmgateway.v1 import chat_pb2, common_pb2

from .api.chat import chat_request_from_proto
from .core.errors import FieldViolation, GatewayError, InternalError, InvalidRequest
from .core.types import ChatResponse
from .gateway import Gateway

log = logging.getLogger(__name__)

MAX_ITEMS = 1000
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64


@dataclass(frozen=True, slots=True)
class BatchItem:
    id: str
    input: chat_pb2.ChatInput
    field: str  # where the item's input is, for its field violations


def validate_batch(request: chat_pb2.BatchChatRequest) -> int:
    """Checks the batch as a whole; returns the concurrency to use."""
    violations = []
    if not request.items:
        violations.append(FieldViolation("items", "at least one item"))
    if len(request.items) > MAX_ITEMS:
        violations.append(FieldViolation("items", f"at most {MAX_ITEMS} items"))
    seen: set[str] = set()
    for i, item in enumerate(request.items):
        if not item.id:
            violations.append(FieldViolation(f"items[{i}].id", "required"))
        elif item.id in seen:
            violations.append(FieldViolation(f"items[{i}].id", "duplicate id"))
        seen.add(item.id)
    if not 0 <= request.max_concurrency <= MAX_CONCURRENCY:
        violations.append(FieldViolation("max_concurrency", f"from 0 to {MAX_CONCURRENCY}"))
    if violations:
        raise InvalidRequest(violations)
    return request.max_concurrency or DEFAULT_CONCURRENCY


async def run_batch(
    gateway: Gateway, items: list[BatchItem], metadata: common_pb2.RequestMetadata,
    concurrency: int, request_id: str, deadline: float | None,
) -> AsyncIterator[tuple[str, str, ChatResponse | GatewayError]]:
    """Each item's (id, request id, response or error), as items finish.
    An item's request id is the batch's with the item's index appended."""
    results: asyncio.Queue[tuple[str, str, ChatResponse | GatewayError]] = asyncio.Queue()
    pending = iter(enumerate(items))

    async def worker() -> None:
        for index, item in pending:  # the shared iterator hands out each item once
            item_request_id = f"{request_id}.{index}"
            results.put_nowait((item.id, item_request_id, await _run_one(
                gateway, item, metadata, item_request_id, deadline)))

    workers = [asyncio.create_task(worker()) for _ in range(min(concurrency, len(items)))]
    try:
        for _ in items:
            yield await results.get()
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


async def _run_one(gateway: Gateway, item: BatchItem, metadata: common_pb2.RequestMetadata,
                   request_id: str, deadline: float | None) -> ChatResponse | GatewayError:
    try:
        request = chat_request_from_proto(item.input, metadata, field=item.field)
        request = replace(request, metadata=replace(request.metadata, request_id=request_id))
        return await gateway.chat(request, request_id=request_id, deadline=deadline)
    except GatewayError as error:
        return error
    except Exception:
        log.exception("batch item failed", extra={"request_id": request_id, "item": item.id})
        return InternalError(f"internal error (request id {request_id})")

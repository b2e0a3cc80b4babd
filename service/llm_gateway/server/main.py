"""Process entry: run one server in this process, or supervise workers."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Callable

from ..config.schema import GatewayConfig
from ..observability.logging import configure
from .app import serve, settings_in_effect
from .workers import supervise, worker_count

log = logging.getLogger("llm_gateway.server")


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (the `fast` extra) and not disabled."""
    if os.environ.get("LLM_GATEWAY_EVENT_LOOP", "auto") == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_single(config: GatewayConfig, address: str,
               on_ready: Callable[[int], None] | None = None, worker: int | None = None) -> int:
    configure(config.server.log_level)
    if not config.server.access_log:
        logging.getLogger("llm_gateway.access").setLevel(logging.WARNING)
    host = address.rpartition(":")[0]

    def ready(port: int) -> None:
        if worker is None:
            log.info("serving", extra={"address": f"{host}:{port}", "workers": 1,
                                       "pid": os.getpid(), **settings_in_effect(config),
                                       "gc_frozen_objects": gc.get_freeze_count()})
        if on_ready is not None:
            on_ready(port)

    try:
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            runner.run(serve(config, address, on_ready=ready))
    except OSError as exc:
        log.error("cannot start", extra={"error": str(exc)})
        return 1
    return 0


def run(config: GatewayConfig, address: str | None = None, workers: int | None = None) -> int:
    address = address or config.server.address
    if workers is not None:
        config = config.model_copy(update={
            "server": config.server.model_copy(update={"workers": workers})})
    configure(config.server.log_level)
    if worker_count(config) == 1:
        return run_single(config, address)
    return supervise(config, address)

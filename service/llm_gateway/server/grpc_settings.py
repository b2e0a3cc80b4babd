"""gRPC core settings the gateway picks for its own server process.

gRPC core reads `GRPC_EXPERIMENTS` once, when `grpc` is first imported, so
`apply()` must run before that: the command line calls it before it imports
the server. Spawned workers inherit the environment.

The one setting: the server listens through gRPC's classic I/O manager
instead of the EventEngine listener (`-event_engine_listener`). With the
EventEngine, every read and write of a connection crosses from the engine's
threads to the completion-queue poller thread before it reaches the event
loop; with the classic manager, the poller thread does the I/O itself. The
bare grpc.aio server makes a quarter fewer context switches per call with it
(19 to 14 per unary call, 32 to 27 per stream; bench/README.md has the
CPU figures). An operator who sets `GRPC_EXPERIMENTS`,
even to the empty string (gRPC's own defaults), keeps their value.

Experiments come and go with grpcio releases: on a bump, rerun `make bench`
with and without the setting (tests/server/test_process.py fails if gRPC no
longer knows the experiment).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping

VARIABLE = "GRPC_EXPERIMENTS"
DEFAULT_EXPERIMENTS = "-event_engine_listener"


def apply(environ: MutableMapping[str, str] = os.environ,
          modules: Mapping[str, object] = sys.modules) -> str:
    """Sets the gateway's default unless the operator set the variable, and
    returns the value gRPC will use. Once `grpc` is imported a change would no
    longer reach it, so the environment is then left as it is."""
    if VARIABLE not in environ and "grpc" not in modules:
        environ[VARIABLE] = DEFAULT_EXPERIMENTS
    return environ.get(VARIABLE, "")


def in_effect() -> str:
    """The experiments gRPC read at import (for the start-up log line)."""
    return os.environ.get(VARIABLE, "")

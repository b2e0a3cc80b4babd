"""Coalescing of stream events that arrived together.

Each gRPC stream message costs the server far more than merging two deltas
(bench/README.md: several thread hand-offs per message). Adapters hand the
gateway the events decoded from each read of the upstream as one list (one
read often carries many SSE events, and a busy gateway falls behind a fast
upstream, so its reads grow); within that list, adjacent deltas of the same
part leave as one. Nothing waits for more input: a list goes out as soon as
its read was decoded, so an idle stream sees each event when it arrives.

Merging keeps the stream contract: deltas are appends (text, arguments,
signatures, redacted data), and usage is cumulative (a usage update followed
by another, or by `done` with the final usage, adds nothing), so a client
rebuilds exactly the same response.
"""

from __future__ import annotations

from collections.abc import Sequence

from .events import (
    ReasoningDelta,
    StreamDone,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UsageUpdate,
)

_DELTAS = (TextDelta, ToolCallDelta, ReasoningDelta)


def coalesce(events: Sequence[StreamEvent]) -> Sequence[StreamEvent]:
    """`events` with each run of adjacent deltas of one part merged, and each
    usage update dropped when the next event carries newer usage."""
    if len(events) < 2:
        return events
    out: list[StreamEvent] = []
    run: list[StreamEvent] = []  # deltas of one kind and part, in order
    for event in events:
        if run and (type(event) is not type(run[0])
                    or event.index != run[0].index):  # type: ignore[attr-defined]
            out.append(_merge_run(run))
            run = []
        if isinstance(event, _DELTAS):
            run.append(event)
        elif isinstance(event, UsageUpdate | StreamDone) and out and isinstance(
                out[-1], UsageUpdate):
            out[-1] = event  # usage is cumulative: the later value supersedes
        else:
            out.append(event)
    if run:
        out.append(_merge_run(run))
    return out


def _merge_run(run: list[StreamEvent]) -> StreamEvent:
    first = run[0]
    if len(run) == 1:
        return first
    if isinstance(first, TextDelta):
        texts = [e.text for e in run]  # type: ignore[attr-defined]
        signatures = [e.thought_signature for e in run]  # type: ignore[attr-defined]
        return TextDelta(first.index, "".join(texts), "".join(signatures))
    if isinstance(first, ToolCallDelta):
        return ToolCallDelta(first.index,
                             "".join(e.arguments_fragment for e in run))  # type: ignore[attr-defined]
    assert isinstance(first, ReasoningDelta)
    parts: list[ReasoningDelta] = run  # type: ignore[assignment]
    return ReasoningDelta(
        first.index, "".join(e.text for e in parts), "".join(e.signature for e in parts),
        b"".join(e.redacted_data for e in parts),
        next((e.id for e in reversed(parts) if e.id), ""),
        next((e.provider_type for e in reversed(parts) if e.provider_type), ""))

"""Rebuilds a ChatResponse (protobuf) from StreamChatResponse events: the
client-side reading of the stream contract, used to check that a stream says
exactly what the unary call says."""

from __future__ import annotations

from collections.abc import Iterable

from llmgateway.v1 import chat_pb2, content_pb2


def rebuild(events: Iterable[chat_pb2.StreamChatResponse]) -> chat_pb2.ChatResponse:
    out = chat_pb2.ChatResponse(message=content_pb2.Message(role=content_pb2.ROLE_ASSISTANT))
    parts: dict[int, content_pb2.Part] = {}

    def part(index: int) -> content_pb2.Part:
        return parts.setdefault(index, content_pb2.Part())

    for e in events:
        kind = e.WhichOneof("event")
        if kind == "start":
            s = e.start
            out.id, out.model, out.provider = s.id, s.model, s.provider
            out.request_id, out.upstream_request_id = s.request_id, s.upstream_request_id
        elif kind == "text_delta":
            p = part(e.text_delta.index)
            p.text += e.text_delta.text
            p.thought_signature += e.text_delta.thought_signature
        elif kind == "reasoning_delta":
            d, r = e.reasoning_delta, part(e.reasoning_delta.index).reasoning
            r.text += d.text
            r.signature += d.signature
            r.redacted_data += d.redacted_data
            r.id = d.id or r.id
            r.provider_type = d.provider_type or r.provider_type
        elif kind == "tool_call_start":
            p = part(e.tool_call_start.index)
            p.tool_call.id, p.tool_call.name = e.tool_call_start.id, e.tool_call_start.name
            p.thought_signature += e.tool_call_start.thought_signature
        elif kind == "tool_call_delta":
            part(e.tool_call_delta.index).tool_call.arguments_json += (
                e.tool_call_delta.arguments_fragment)
        elif kind == "tool_call_end":
            part(e.tool_call_end.index).tool_call.CopyFrom(e.tool_call_end.tool_call)
        elif kind == "usage":
            out.usage.CopyFrom(e.usage.usage)
        elif kind == "done":
            d = e.done
            out.finish_reason = d.finish_reason
            out.provider_finish_reason = d.provider_finish_reason
            out.stop_sequence = d.stop_sequence
            out.usage.CopyFrom(d.usage)
    out.message.parts.extend(parts[i] for i in sorted(parts))
    return out

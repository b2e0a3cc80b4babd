"""Rebuilds the final ChatResponse from StreamChat events, exactly as the
contract defines it (see StreamChatResponse in chat.proto)."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable

from llmgateway.v1 import chat_pb2, completions_pb2, content_pb2


class Reassembler:
    """Feed events in order with `add`; `response` is the rebuilt reply."""

    def __init__(self) -> None:
        self.response = chat_pb2.ChatResponse(
            message=content_pb2.Message(role=content_pb2.ROLE_ASSISTANT))
        self._parts: dict[int, content_pb2.Part] = {}
        self.done = False

    def _part(self, index: int) -> content_pb2.Part:
        part = self._parts.get(index)
        if part is None:
            part = self._parts[index] = self.response.message.parts.add()
        return part

    def add(self, event: chat_pb2.StreamChatResponse) -> None:
        kind = event.WhichOneof("event")
        r = self.response
        if kind == "start":
            s = event.start
            r.id, r.model, r.provider = s.id, s.model, s.provider
            r.request_id, r.upstream_request_id = s.request_id, s.upstream_request_id
        elif kind == "text_delta":
            d = event.text_delta
            part = self._part(d.index)
            part.text += d.text
            part.thought_signature += d.thought_signature
        elif kind == "reasoning_delta":
            d = event.reasoning_delta
            reasoning = self._part(d.index).reasoning
            reasoning.text += d.text
            reasoning.signature += d.signature
            reasoning.redacted_data += d.redacted_data
            reasoning.id = d.id or reasoning.id
            reasoning.provider_type = d.provider_type or reasoning.provider_type
        elif kind == "tool_call_start":
            d = event.tool_call_start
            part = self._part(d.index)
            part.tool_call.id, part.tool_call.name = d.id, d.name
            part.thought_signature += d.thought_signature
        elif kind == "tool_call_delta":
            d = event.tool_call_delta
            self._part(d.index).tool_call.arguments_json += d.arguments_fragment
        elif kind == "tool_call_end":
            self._part(event.tool_call_end.index).tool_call.CopyFrom(
                event.tool_call_end.tool_call)
        elif kind == "usage":
            r.usage.CopyFrom(event.usage.usage)
        elif kind == "done":
            d = event.done
            r.finish_reason, r.provider_finish_reason = d.finish_reason, d.provider_finish_reason
            r.stop_sequence = d.stop_sequence
            r.usage.CopyFrom(d.usage)
            self.done = True
        # Unknown kinds (from a newer contract) are ignored.

    def result(self) -> chat_pb2.ChatResponse:
        # Parts were added in arrival order; the contract orders them by index.
        ordered = [self._parts[i] for i in sorted(self._parts)]
        out = chat_pb2.ChatResponse()
        out.CopyFrom(self.response)
        del out.message.parts[:]
        out.message.parts.extend(ordered)
        return out


def reassemble(events: Iterable[chat_pb2.StreamChatResponse]) -> chat_pb2.ChatResponse:
    acc = Reassembler()
    for event in events:
        acc.add(event)
    return acc.result()


async def areassemble(events: AsyncIterable[chat_pb2.StreamChatResponse]
                      ) -> chat_pb2.ChatResponse:
    acc = Reassembler()
    async for event in events:
        acc.add(event)
    return acc.result()


async def areassemble_completion(events: AsyncIterable[completions_pb2.StreamCompleteResponse]
                                 ) -> completions_pb2.CompleteResponse:
    """Rebuilds the CompleteResponse from StreamComplete events."""
    out = completions_pb2.CompleteResponse()
    choices: dict[int, completions_pb2.CompletionChoice] = {}
    async for event in events:
        kind = event.WhichOneof("event")
        if kind == "start":
            s = event.start
            out.id, out.model, out.provider = s.id, s.model, s.provider
            out.request_id, out.upstream_request_id = s.request_id, s.upstream_request_id
        elif kind == "delta":
            choice = choices.setdefault(event.delta.index, completions_pb2.CompletionChoice(
                index=event.delta.index))
            choice.text += event.delta.text
            choice.logprobs.extend(event.delta.logprobs)
        elif kind == "choice_done":
            d = event.choice_done
            choice = choices.setdefault(d.index, completions_pb2.CompletionChoice(index=d.index))
            choice.finish_reason, choice.provider_finish_reason = (d.finish_reason,
                                                                   d.provider_finish_reason)
        elif kind == "done":
            out.usage.CopyFrom(event.done.usage)
    out.choices.extend(choices[i] for i in sorted(choices))
    return out

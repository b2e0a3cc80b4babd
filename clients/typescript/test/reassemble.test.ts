// Offline tests of the reassembly rules (StreamChatResponse in chat.proto,
// StreamCompleteResponse in completions.proto).
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  CompletionAccumulator,
  FinishReason,
  Role,
  StreamAccumulator,
  StreamChatResponseSchema,
  StreamCompleteResponseSchema,
  reassemble,
  reassembleCompletion,
  type StreamChatResponse,
  type StreamCompleteResponse,
} from "@llmgateway/client";

type Event = MessageInitShape<typeof StreamChatResponseSchema>["event"];
type CompletionEvent = MessageInitShape<typeof StreamCompleteResponseSchema>["event"];

function event(e: Event): StreamChatResponse {
  return create(StreamChatResponseSchema, { event: e });
}

const start = event({
  case: "start",
  value: { id: "r1", model: "m", provider: "p", requestId: "req", upstreamRequestId: "up" },
});
const done = event({
  case: "done",
  value: {
    finishReason: FinishReason.TOOL_CALLS,
    providerFinishReason: "tool_calls",
    stopSequence: "",
    usage: { inputTokens: 5n, outputTokens: 7n, totalTokens: 12n },
  },
});

test("start sets the ids, deltas build parts by index, done finishes", async () => {
  const reply = await reassemble([
    start,
    event({ case: "reasoningDelta", value: { index: 0, text: "thin", signature: "s1", id: "rs_1" } }),
    event({ case: "toolCallStart", value: { index: 2, id: "call_1", name: "get_weather" } }),
    event({ case: "textDelta", value: { index: 1, text: "Hel" } }),
    event({ case: "reasoningDelta", value: { index: 0, text: "king", signature: "s2", providerType: "anthropic" } }),
    event({ case: "toolCallDelta", value: { index: 2, argumentsFragment: '{"location":' } }),
    event({ case: "textDelta", value: { index: 1, text: "lo", thoughtSignature: "sig" } }),
    event({ case: "toolCallDelta", value: { index: 2, argumentsFragment: ' "Paris"}' } }),
    event({ case: "usage", value: { usage: { inputTokens: 5n, outputTokens: 1n, totalTokens: 6n } } }),
    done,
  ]);
  assert.equal(reply.id, "r1");
  assert.equal(reply.model, "m");
  assert.equal(reply.provider, "p");
  assert.equal(reply.requestId, "req");
  assert.equal(reply.upstreamRequestId, "up");
  assert.equal(reply.message?.role, Role.ASSISTANT);
  const [reasoning, text, call] = reply.message?.parts ?? [];
  assert.equal(reasoning?.kind.case, "reasoning");
  if (reasoning?.kind.case === "reasoning") {
    assert.equal(reasoning.kind.value.text, "thinking");
    assert.equal(reasoning.kind.value.signature, "s1s2");
    assert.equal(reasoning.kind.value.id, "rs_1");
    assert.equal(reasoning.kind.value.providerType, "anthropic");
  }
  assert.deepEqual(text?.kind, { case: "text", value: "Hello" });
  assert.equal(text?.thoughtSignature, "sig");
  assert.equal(call?.kind.case, "toolCall");
  if (call?.kind.case === "toolCall") {
    assert.equal(call.kind.value.id, "call_1");
    assert.equal(call.kind.value.name, "get_weather");
    assert.equal(call.kind.value.argumentsJson, '{"location": "Paris"}');
  }
  assert.equal(reply.finishReason, FinishReason.TOOL_CALLS);
  assert.equal(reply.providerFinishReason, "tool_calls");
  assert.equal(reply.usage?.totalTokens, 12n);
});

test("tool_call_end replaces the call with the complete one", async () => {
  const reply = await reassemble([
    start,
    event({ case: "toolCallStart", value: { index: 0, id: "call_1", name: "f" } }),
    event({ case: "toolCallDelta", value: { index: 0, argumentsFragment: "{partial" } }),
    event({ case: "toolCallEnd", value: { index: 0, toolCall: { id: "call_1", name: "f", argumentsJson: "{}" } } }),
    done,
  ]);
  const part = reply.message?.parts[0];
  assert.equal(part?.kind.case, "toolCall");
  assert.equal(part?.kind.case === "toolCall" ? part.kind.value.argumentsJson : undefined, "{}");
});

test("usage replaces usage; done without usage keeps it", async () => {
  const reply = await reassemble([
    start,
    event({ case: "usage", value: { usage: { inputTokens: 1n, outputTokens: 1n, totalTokens: 2n } } }),
    event({ case: "usage", value: { usage: { inputTokens: 1n, outputTokens: 3n, totalTokens: 4n } } }),
    event({ case: "done", value: { finishReason: FinishReason.STOP } }),
  ]);
  assert.equal(reply.usage?.totalTokens, 4n);
  assert.equal(reply.finishReason, FinishReason.STOP);
});

test("unknown event kinds are ignored", async () => {
  // An event of a newer contract decodes with no known case.
  const unknown = create(StreamChatResponseSchema);
  const reply = await reassemble([start, unknown, event({ case: "textDelta", value: { index: 0, text: "ok" } }), done]);
  assert.deepEqual(reply.message?.parts.map((part) => part.kind), [{ case: "text", value: "ok" }]);
});

test("the accumulator reports done and hands out copies", () => {
  const accumulator = new StreamAccumulator();
  accumulator.add(start);
  accumulator.add(event({ case: "textDelta", value: { index: 0, text: "a" } }));
  const before = accumulator.response();
  assert.equal(accumulator.done, false);
  accumulator.add(event({ case: "textDelta", value: { index: 0, text: "b" } }));
  accumulator.add(done);
  assert.equal(accumulator.done, true);
  assert.deepEqual(before.message?.parts[0]?.kind, { case: "text", value: "a" });
  assert.deepEqual(accumulator.response().message?.parts[0]?.kind, { case: "text", value: "ab" });
});

// Completion streams (StreamCompleteResponse in completions.proto).

function completionEvent(e: CompletionEvent): StreamCompleteResponse {
  return create(StreamCompleteResponseSchema, { event: e });
}

const completionStart = completionEvent({
  case: "start",
  value: { id: "cmpl-1", model: "m", provider: "p", requestId: "req", upstreamRequestId: "up" },
});
const completionDone = completionEvent({
  case: "done",
  value: { usage: { inputTokens: 3n, outputTokens: 4n, totalTokens: 7n } },
});

test("completion: start sets the ids, deltas build choices by index, choice_done finishes them", async () => {
  const reply = await reassembleCompletion([
    completionStart,
    completionEvent({ case: "delta", value: { index: 1, text: "Bon", logprobs: [{ token: "Bon", logprob: -0.5 }] } }),
    completionEvent({ case: "delta", value: { index: 0, text: "Hel" } }),
    completionEvent({
      case: "delta",
      value: { index: 1, text: "jour", logprobs: [{ token: "jour", logprob: -0.25, textOffset: 3 }] },
    }),
    completionEvent({
      case: "choiceDone",
      value: { index: 1, finishReason: FinishReason.LENGTH, providerFinishReason: "length" },
    }),
    completionEvent({ case: "delta", value: { index: 0, text: "lo" } }),
    completionEvent({
      case: "choiceDone",
      value: { index: 0, finishReason: FinishReason.STOP, providerFinishReason: "stop" },
    }),
    completionDone,
  ]);
  assert.equal(reply.id, "cmpl-1");
  assert.equal(reply.model, "m");
  assert.equal(reply.provider, "p");
  assert.equal(reply.requestId, "req");
  assert.equal(reply.upstreamRequestId, "up");
  assert.deepEqual(
    reply.choices.map((choice) => [choice.index, choice.text, choice.finishReason, choice.providerFinishReason]),
    [
      [0, "Hello", FinishReason.STOP, "stop"],
      [1, "Bonjour", FinishReason.LENGTH, "length"],
    ],
  );
  assert.deepEqual(
    reply.choices[1]?.logprobs.map((logprob) => [logprob.token, logprob.logprob, logprob.textOffset]),
    [
      ["Bon", -0.5, 0],
      ["jour", -0.25, 3],
    ],
  );
  assert.equal(reply.usage?.totalTokens, 7n);
});

test("completion: a choice with no text, unknown event kinds, done without usage", async () => {
  const reply = await reassembleCompletion([
    completionStart,
    create(StreamCompleteResponseSchema),
    completionEvent({ case: "choiceDone", value: { index: 0, finishReason: FinishReason.LENGTH } }),
    completionEvent({ case: "done", value: {} }),
  ]);
  assert.deepEqual(
    reply.choices.map((choice) => [choice.index, choice.text, choice.finishReason]),
    [[0, "", FinishReason.LENGTH]],
  );
  assert.equal(reply.usage, undefined);
});

test("the completion accumulator reports done and hands out copies", () => {
  const accumulator = new CompletionAccumulator();
  accumulator.add(completionStart);
  accumulator.add(completionEvent({ case: "delta", value: { index: 0, text: "a" } }));
  const before = accumulator.response();
  assert.equal(accumulator.done, false);
  accumulator.add(completionEvent({ case: "delta", value: { index: 0, text: "b" } }));
  accumulator.add(completionDone);
  assert.equal(accumulator.done, true);
  assert.equal(before.choices[0]?.text, "a");
  assert.equal(before.usage, undefined);
  assert.equal(accumulator.response().choices[0]?.text, "ab");
});

// The cross-language client scenarios (clients/TESTING.md), against the live
// gateway at LLMGATEWAY_ADDRESS (python -m tests.support.client_env).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Code,
  CountTokensResponse_Method,
  FinishReason,
  GatewayClient,
  GatewayError,
  ServingStatus,
  ToolChoice_Mode,
  embedTexts,
  providerOptions,
  reassemble,
  reassembleCompletion,
  textOf,
  userMessage,
  type BatchResult,
  type ChatInputInit,
  type ChatResponse,
  type CompleteResponse,
  type CompletionInputInit,
  type Interceptor,
  type StreamChatResponse,
  type StreamCompleteResponse,
  type ToolCall,
} from "@llmgateway/client";

/** The gateway's address; a missing one fails the suite (it never skips). */
function address(variable = "LLMGATEWAY_ADDRESS"): string {
  const value = process.env[variable];
  if (!value) {
    throw new Error(`${variable} is not set: start \`python -m tests.support.client_env\` (clients/TESTING.md)`);
  }
  return value;
}

/** Awaits a call that must fail, and returns its GatewayError. */
async function failure(call: Promise<unknown>): Promise<GatewayError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof GatewayError, `expected a GatewayError, got ${String(error)}`);
    return error;
  }
  assert.fail("the call succeeded");
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function toolCalls(response: ChatResponse): ToolCall[] {
  return (response.message?.parts ?? []).flatMap((part) => (part.kind.case === "toolCall" ? [part.kind.value] : []));
}

function withoutRequestIds<T extends ChatResponse | CompleteResponse>(response: T): T {
  return { ...response, requestId: "", upstreamRequestId: "" };
}

/** A completion's choices as [index, text, finish reason]. */
function completionChoices(response: CompleteResponse): [number, string, FinishReason][] {
  return response.choices.map((choice) => [choice.index, choice.text, choice.finishReason]);
}

describe("llmgateway client scenarios (clients/TESTING.md)", () => {
  let client: GatewayClient;
  let listModelsCalls = 0;
  let lastAuthorization: string | null = null;
  const observe: Interceptor = (next) => (request) => {
    if (request.method.name === "ListModels") listModelsCalls++;
    lastAuthorization = request.header.get("authorization");
    return next(request);
  };

  before(() => {
    client = new GatewayClient(address(), { apiKey: "test-key", timeoutMs: 10_000, interceptors: [observe] });
  });
  after(() => client?.close());

  test("1. unary chat", async () => {
    const reply = await client.chat({ model: "fast", messages: [userMessage("hello from typescript")] });
    assert.equal(textOf(reply.message), "hello from typescript");
    assert.equal(reply.finishReason, FinishReason.STOP);
    assert.equal(reply.provider, "echo");
    assert.notEqual(reply.requestId, "");
    assert.equal(reply.usage?.totalTokens, 6n);
    assert.equal(reply.usage?.inputTokens, 3n);
    assert.equal(reply.usage?.outputTokens, 3n);
  });

  test("2a. stream reassembled: echo tool calls equal unary chat", async () => {
    const input: ChatInputInit = {
      model: "echo",
      messages: [userMessage("stream test")],
      tools: [
        { kind: { case: "function", value: { name: "get_weather" } } },
        { kind: { case: "function", value: { name: "get_time" } } },
      ],
      toolChoice: { choice: { case: "mode", value: ToolChoice_Mode.REQUIRED } },
    };
    const events: StreamChatResponse[] = await collect(client.stream(input));
    const kinds = events.map((event) => event.event.case);
    assert.equal(kinds[0], "start");
    assert.equal(kinds.at(-1), "done");
    assert.equal(kinds.filter((kind) => kind === "done").length, 1);

    const rebuilt = await reassemble(events);
    assert.deepEqual(
      toolCalls(rebuilt).map((call) => [call.name, JSON.parse(call.argumentsJson)]),
      [
        ["get_weather", { text: "stream test" }],
        ["get_time", { text: "stream test" }],
      ],
    );
    assert.equal(rebuilt.finishReason, FinishReason.TOOL_CALLS);

    const unary = await client.chat(input);
    assert.deepEqual(withoutRequestIds(rebuilt), withoutRequestIds(unary));
  });

  test("2b. stream reassembled: fake OpenAI tool calls from fragments", async () => {
    const rebuilt = await reassemble(client.stream({ model: "smart", messages: [userMessage("weather?")] }));
    assert.deepEqual(
      toolCalls(rebuilt).map((call) => [call.name, JSON.parse(call.argumentsJson)]),
      [
        ["get_weather", { location: "Paris" }],
        ["get_time", {}],
      ],
    );
    assert.equal(rebuilt.finishReason, FinishReason.TOOL_CALLS);
    assert.equal(rebuilt.usage?.inputTokens, 9n);
    assert.equal(rebuilt.usage?.outputTokens, 12n);
    assert.equal(rebuilt.provider, "fake");
  });

  test("3. embed", async () => {
    const reply = await client.embed(embedTexts("echo/echo-embed", "a", "b", "a"));
    const vectors = reply.embeddings.map((embedding) => embedding.values);
    assert.equal(vectors.length, 3);
    for (const vector of vectors) assert.equal(vector.length, 16);
    assert.deepEqual(vectors[0], vectors[2]);
    assert.notDeepEqual(vectors[0], vectors[1]);
  });

  test("4. list models across pages, get model by alias", async () => {
    listModelsCalls = 0;
    const names = (await collect(client.listAllModels({ pageSize: 1 }))).map((model) => model.name);
    assert.deepEqual(names, ["echo/echo", "echo/echo-embed", "fake/gpt-4.1-mini", "fake/text-embedding-3-small"]);
    assert.equal(listModelsCalls, 4, "one ListModels call per page");

    const model = await client.getModel("fast");
    assert.equal(model.name, "echo/echo");
    assert.ok(model.aliases.includes("fast"), `aliases ${model.aliases.join(", ")}`);
  });

  test("5. health", async () => {
    assert.equal(await client.health(""), ServingStatus.SERVING);
    assert.equal(await client.health("readiness"), ServingStatus.SERVING);
  });

  test("6. NOT_FOUND with details", async () => {
    const error = await failure(client.chat({ model: "no-such-model", messages: [userMessage("hi")] }));
    assert.equal(error.code, Code.NotFound);
    assert.equal(error.codeName, "NOT_FOUND");
    assert.equal(error.reason, "MODEL_NOT_FOUND");
    assert.equal(error.domain, "llmgateway");
    assert.equal(error.metadata["model"], "no-such-model");
    assert.notEqual(error.requestId, "");
  });

  test("7. retry delay", async () => {
    const error = await failure(
      client.chat({
        model: "echo",
        messages: [userMessage("hi")],
        providerOptions: providerOptions({ echo: { fail: "rate_limited" } }),
      }),
    );
    assert.equal(error.code, Code.ResourceExhausted);
    assert.equal(error.reason, "UPSTREAM_RATE_LIMITED");
    assert.equal(error.retryDelayMs, 2000);
  });

  test("8. deadline exceeded", async () => {
    const started = performance.now();
    const error = await failure(
      client.chat(
        { model: "echo", messages: [userMessage("hi")], providerOptions: providerOptions({ echo: { delay_ms: 5000 } }) },
        { timeoutMs: 200 },
      ),
    );
    const elapsed = performance.now() - started;
    assert.equal(error.code, Code.DeadlineExceeded);
    assert.ok(elapsed < 2000, `returned after ${Math.round(elapsed)} ms`);
  });

  test("9. cancel mid-stream", async () => {
    const words = Array.from({ length: 50 }, (_, i) => `word${i}`).join(" ");
    const input: ChatInputInit = {
      model: "echo",
      messages: [userMessage(words)],
      providerOptions: providerOptions({ echo: { chunk_delay_ms: 100 } }),
    };
    const controller = new AbortController();
    let received = 0;
    let cancelledAt = 0;
    const error = await failure(
      (async () => {
        for await (const _ of client.stream(input, { signal: controller.signal })) {
          received++;
          if (received === 3) {
            cancelledAt = performance.now();
            controller.abort();
          }
        }
      })(),
    );
    const stoppedAfter = performance.now() - cancelledAt;
    assert.equal(received, 3);
    assert.equal(error.code, Code.Canceled);
    assert.equal(error.codeName, "CANCELLED");
    assert.ok(stoppedAfter < 2000, `stopped ${Math.round(stoppedAfter)} ms after the cancel`);

    const reply = await client.chat({ model: "fast", messages: [userMessage("still there")] });
    assert.equal(textOf(reply.message), "still there");
  });

  test("10. invalid request", async () => {
    const error = await failure(client.chat({ model: "echo", messages: [] }));
    assert.equal(error.code, Code.InvalidArgument);
    assert.ok(
      error.fieldViolations.some((violation) => violation.field === "input.messages"),
      `violations ${JSON.stringify(error.fieldViolations)}`,
    );
  });

  test("11. count tokens", async () => {
    const count = await client.countTokens({ model: "echo", messages: [userMessage("count these four words")] });
    assert.equal(count.inputTokens, 4n);
    assert.equal(count.method, CountTokensResponse_Method.BUILTIN);
    assert.equal(count.provider, "echo");
    assert.equal(count.model, "echo");
  });

  test("12. text completion, unary and streamed", async () => {
    const input: CompletionInputInit = {
      model: "echo",
      prompts: ["one two", "three four five"],
      echo: true,
      generation: { maxOutputTokens: 2 },
    };
    const expected: [number, string, FinishReason][] = [
      [0, "one twoone two", FinishReason.STOP],
      [1, "three four fivethree four", FinishReason.LENGTH],
    ];

    const unary = await client.complete(input);
    assert.deepEqual(completionChoices(unary), expected);
    assert.equal(unary.usage?.inputTokens, 5n);
    assert.equal(unary.usage?.outputTokens, 4n);
    assert.equal(unary.provider, "echo");

    const events: StreamCompleteResponse[] = await collect(client.streamComplete(input));
    const kinds = events.map((event) => event.event.case);
    assert.equal(kinds[0], "start");
    assert.equal(kinds.at(-1), "done");
    assert.equal(kinds.filter((kind) => kind === "done").length, 1);

    // The events themselves, per choice index.
    const texts = new Map<number, string>();
    const finishes = new Map<number, FinishReason>();
    for (const { event } of events) {
      if (event.case === "delta") {
        texts.set(event.value.index, (texts.get(event.value.index) ?? "") + event.value.text);
      }
      if (event.case === "choiceDone") finishes.set(event.value.index, event.value.finishReason);
      if (event.case === "done") assert.deepEqual(event.value.usage, unary.usage);
    }
    assert.deepEqual(
      expected.map(([index]) => [index, texts.get(index), finishes.get(index)]),
      expected,
    );

    // The client's reassembly helper rebuilds what complete() returns.
    const rebuilt = await reassembleCompletion(events);
    assert.deepEqual(withoutRequestIds(rebuilt), withoutRequestIds(unary));
  });

  test("13. batch: results per item, item errors typed", async () => {
    const results = new Map<string, BatchResult>();
    const items = [
      { id: "a", input: { model: "echo", messages: [userMessage("alpha")] } },
      { id: "b", input: { model: "no-such-model", messages: [userMessage("beta")] } },
      { id: "c", input: { model: "fast", messages: [userMessage("gamma")] } },
    ];
    for await (const result of client.batchChat(items, { maxConcurrency: 2 })) {
      assert.ok(!results.has(result.id), `a second result for item ${result.id}`);
      results.set(result.id, result);
    }
    assert.deepEqual([...results.keys()].sort(), ["a", "b", "c"]);

    for (const [id, text] of [["a", "alpha"], ["c", "gamma"]] as const) {
      const result = results.get(id);
      assert.equal(result?.error, undefined, `item ${id} failed: ${String(result?.error)}`);
      assert.equal(textOf(result?.response?.message), text);
    }
    const b = results.get("b");
    assert.equal(b?.response, undefined);
    assert.ok(b?.error instanceof GatewayError, `item b: ${String(b?.error)}`);
    assert.equal(b.error.code, Code.NotFound);
    assert.equal(Number(b.error.code), 5); // google.rpc.Code NOT_FOUND
    assert.equal(b.error.codeName, "NOT_FOUND");
    assert.equal(b.error.reason, "MODEL_NOT_FOUND");
    assert.equal(b.error.metadata["model"], "no-such-model");
    assert.notEqual(b.error.rawMessage, "");
    // The item's request id: the call's, then the item's index.
    assert.match(b.error.requestId, /^.+\.1$/);
  });

  test("14. connection rotation: no call is lost to a graceful GOAWAY", async () => {
    const rotating = new GatewayClient(address("LLMGATEWAY_ROTATING_ADDRESS"), { timeoutMs: 10_000 });
    try {
      const words = Array.from({ length: 50 }, (_, i) => `w${i}`).join(" ");
      const input: ChatInputInit = {
        model: "echo",
        messages: [userMessage(words)],
        providerOptions: providerOptions({ echo: { chunk_delay_ms: 10 } }),
      };
      for (const n of [1, 2]) {
        // 40 events, 10 ms apart: past the GOAWAY; leaving the loop then
        // cancels the call, the connection's last.
        let received = 0;
        for await (const _ of rotating.stream(input)) {
          if (++received === 40) break;
        }
        assert.equal(received, 40);
        const reply = await rotating.chat({ model: "echo", messages: [userMessage(`after rotation ${n}`)] });
        assert.equal(textOf(reply.message), `after rotation ${n}`);
      }
    } finally {
      rotating.close();
    }
  });

  // Beyond TESTING.md: what the client adds to every call.

  test("the API key is sent as a bearer token, the request id passes through", async () => {
    const reply = await client.chat({ model: "fast", messages: [userMessage("id")] }, { requestId: "ts-request-1" });
    assert.equal(reply.requestId, "ts-request-1");
    assert.equal(lastAuthorization, "Bearer test-key");

    const error = await failure(
      client.chat({ model: "no-such-model", messages: [userMessage("id")] }, { requestId: "ts-request-2" }),
    );
    assert.equal(error.requestId, "ts-request-2");
  });

  test("leaving a stream loop early ends the call", async () => {
    const input: ChatInputInit = {
      model: "echo",
      messages: [userMessage("one two three four five six seven eight nine ten")],
      providerOptions: providerOptions({ echo: { chunk_delay_ms: 100 } }),
    };
    const started = performance.now();
    let received = 0;
    for await (const _ of client.stream(input)) {
      if (++received === 2) break;
    }
    assert.equal(received, 2);
    assert.ok(performance.now() - started < 1000);
    const reply = await client.chat({ model: "fast", messages: [userMessage("after break")] });
    assert.equal(textOf(reply.message), "after break");
  });

  test("leaving a completion stream or batch loop early ends the call", async () => {
    const input: CompletionInputInit = {
      model: "echo",
      prompts: ["one two three four five six seven eight nine ten"],
      providerOptions: providerOptions({ echo: { chunk_delay_ms: 100 } }),
    };
    let started = performance.now();
    let received = 0;
    for await (const _ of client.streamComplete(input)) {
      if (++received === 2) break;
    }
    assert.equal(received, 2);
    assert.ok(performance.now() - started < 1000);

    const slow: ChatInputInit = {
      model: "echo",
      messages: [userMessage("slow")],
      providerOptions: providerOptions({ echo: { delay_ms: 5000 } }),
    };
    const items = [
      { id: "fast", input: { model: "fast", messages: [userMessage("quick")] } },
      { id: "slow", input: slow },
    ];
    started = performance.now();
    for await (const result of client.batchChat(items)) {
      assert.equal(result.id, "fast");
      break;
    }
    assert.ok(performance.now() - started < 2000);

    const reply = await client.complete({ model: "echo", prompts: ["after break"] });
    assert.equal(reply.choices[0]?.text, "after break");
  });

  test("a completion stream's failure and a batch's deadline are GatewayErrors", async () => {
    const streamError = await failure(
      collect(
        client.streamComplete({
          model: "echo",
          prompts: ["hi"],
          providerOptions: providerOptions({ echo: { fail: "rate_limited" } }),
        }),
      ),
    );
    assert.equal(streamError.code, Code.ResourceExhausted);
    assert.equal(streamError.retryDelayMs, 2000);

    const slow: ChatInputInit = {
      model: "echo",
      messages: [userMessage("slow")],
      providerOptions: providerOptions({ echo: { delay_ms: 5000 } }),
    };
    const started = performance.now();
    const batchError = await failure(collect(client.batchChat([{ id: "slow", input: slow }], { timeoutMs: 200 })));
    assert.equal(batchError.code, Code.DeadlineExceeded);
    assert.ok(performance.now() - started < 2000);
  });
});

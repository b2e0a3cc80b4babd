import { clone, create } from "@bufbuild/protobuf";
import {
  ChatResponseSchema,
  CompleteResponseSchema,
  CompletionChoiceSchema,
  MessageSchema,
  PartSchema,
  ReasoningSchema,
  Role,
  TokenLogprobSchema,
  ToolCallSchema,
  UsageSchema,
  type ChatResponse,
  type CompleteResponse,
  type CompletionChoice,
  type Part,
  type Reasoning,
  type StreamChatResponse,
  type StreamCompleteResponse,
  type ToolCall,
} from "@llmgateway/proto";

/**
 * Consumes a stream (GatewayClient.stream, or events already collected) and
 * rebuilds the final ChatResponse: the one chat() would have returned for
 * the same input. A failing stream rejects with its GatewayError.
 *
 * ```ts
 * const reply = await reassemble(client.stream(input));
 * ```
 */
export async function reassemble(
  events: AsyncIterable<StreamChatResponse> | Iterable<StreamChatResponse>,
): Promise<ChatResponse> {
  const accumulator = new StreamAccumulator();
  for await (const event of events) {
    accumulator.add(event);
  }
  return accumulator.response();
}

/**
 * Rebuilds a ChatResponse from stream events added in order, for callers
 * that handle each event as it arrives:
 *
 * ```ts
 * const accumulator = new StreamAccumulator();
 * for await (const event of client.stream(input)) {
 *   accumulator.add(event);
 *   if (event.event.case === "textDelta") process.stdout.write(event.event.value.text);
 * }
 * const reply = accumulator.response();
 * ```
 *
 * The rules (StreamChatResponse in chat.proto): `start` sets the ids, model
 * and provider; text, reasoning and tool-call deltas append to the part at
 * their index; `toolCallEnd` replaces that part's call with the complete
 * one; `usage` replaces the usage; `done` sets the finish reason, provider
 * finish reason, stop sequence and final usage. Unknown event kinds are
 * ignored.
 */
export class StreamAccumulator {
  readonly #response: ChatResponse = create(ChatResponseSchema);
  readonly #parts = new Map<number, Part>();
  #done = false;

  /** Applies one event. */
  add(event: StreamChatResponse): void {
    const r = this.#response;
    const e = event.event;
    switch (e.case) {
      case "start":
        r.id = e.value.id;
        r.model = e.value.model;
        r.provider = e.value.provider;
        r.requestId = e.value.requestId;
        r.upstreamRequestId = e.value.upstreamRequestId;
        break;
      case "textDelta": {
        const part = this.#part(e.value.index);
        const text = part.kind.case === "text" ? part.kind.value : "";
        part.kind = { case: "text", value: text + e.value.text };
        part.thoughtSignature += e.value.thoughtSignature;
        break;
      }
      case "reasoningDelta": {
        const reasoning = this.#reasoning(e.value.index);
        reasoning.text += e.value.text;
        reasoning.signature += e.value.signature;
        reasoning.redactedData = concatBytes(reasoning.redactedData, e.value.redactedData);
        if (e.value.id) reasoning.id = e.value.id;
        if (e.value.providerType) reasoning.providerType = e.value.providerType;
        break;
      }
      case "toolCallStart": {
        const part = this.#part(e.value.index);
        const call = create(ToolCallSchema, { id: e.value.id, name: e.value.name });
        part.kind = { case: "toolCall", value: call };
        part.thoughtSignature += e.value.thoughtSignature;
        break;
      }
      case "toolCallDelta":
        this.#toolCall(e.value.index).argumentsJson += e.value.argumentsFragment;
        break;
      case "toolCallEnd": {
        const call = e.value.toolCall ? clone(ToolCallSchema, e.value.toolCall) : create(ToolCallSchema);
        this.#part(e.value.index).kind = { case: "toolCall", value: call };
        break;
      }
      case "usage":
        r.usage = e.value.usage ? clone(UsageSchema, e.value.usage) : undefined;
        break;
      case "done":
        r.finishReason = e.value.finishReason;
        r.providerFinishReason = e.value.providerFinishReason;
        r.stopSequence = e.value.stopSequence;
        if (e.value.usage) r.usage = clone(UsageSchema, e.value.usage);
        this.#done = true;
        break;
      default:
        // An event kind from a newer contract (or none): ignored.
        break;
    }
  }

  /** Whether the `done` event was added: the stream completed. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * The response rebuilt so far: an assistant message with the parts ordered
   * by index. It is a copy; adding more events does not change it.
   */
  response(): ChatResponse {
    const out = clone(ChatResponseSchema, this.#response);
    const parts = [...this.#parts].sort(([a], [b]) => a - b);
    out.message = create(MessageSchema, {
      role: Role.ASSISTANT,
      parts: parts.map(([, part]) => clone(PartSchema, part)),
    });
    return out;
  }

  /** The part at index, created empty on first use. */
  #part(index: number): Part {
    let part = this.#parts.get(index);
    if (!part) {
      part = create(PartSchema);
      this.#parts.set(index, part);
    }
    return part;
  }

  #reasoning(index: number): Reasoning {
    const part = this.#part(index);
    if (part.kind.case !== "reasoning") {
      part.kind = { case: "reasoning", value: create(ReasoningSchema) };
    }
    return part.kind.value;
  }

  /** The tool call at index; a delta without its start builds one anyway. */
  #toolCall(index: number): ToolCall {
    const part = this.#part(index);
    if (part.kind.case !== "toolCall") {
      part.kind = { case: "toolCall", value: create(ToolCallSchema) };
    }
    return part.kind.value;
  }
}

/**
 * Consumes a completion stream (GatewayClient.streamComplete, or events
 * already collected) and rebuilds the CompleteResponse that complete() would
 * have returned for the same input. A failing stream rejects with its
 * GatewayError.
 *
 * ```ts
 * const reply = await reassembleCompletion(client.streamComplete(input));
 * ```
 */
export async function reassembleCompletion(
  events: AsyncIterable<StreamCompleteResponse> | Iterable<StreamCompleteResponse>,
): Promise<CompleteResponse> {
  const accumulator = new CompletionAccumulator();
  for await (const event of events) {
    accumulator.add(event);
  }
  return accumulator.response();
}

/**
 * Rebuilds a CompleteResponse from completion stream events added in order,
 * like StreamAccumulator for chat streams. The rules (StreamCompleteResponse
 * in completions.proto): `start` sets the ids, model and provider; `delta`
 * appends its text and log probabilities to the choice at its index;
 * `choiceDone` sets that choice's finish reason and provider finish reason;
 * `done` sets the usage. Choices are ordered by index. Unknown event kinds
 * are ignored.
 */
export class CompletionAccumulator {
  readonly #response: CompleteResponse = create(CompleteResponseSchema);
  readonly #choices = new Map<number, CompletionChoice>();
  #done = false;

  /** Applies one event. */
  add(event: StreamCompleteResponse): void {
    const r = this.#response;
    const e = event.event;
    switch (e.case) {
      case "start":
        r.id = e.value.id;
        r.model = e.value.model;
        r.provider = e.value.provider;
        r.requestId = e.value.requestId;
        r.upstreamRequestId = e.value.upstreamRequestId;
        break;
      case "delta": {
        const choice = this.#choice(e.value.index);
        choice.text += e.value.text;
        choice.logprobs.push(...e.value.logprobs.map((logprob) => clone(TokenLogprobSchema, logprob)));
        break;
      }
      case "choiceDone": {
        const choice = this.#choice(e.value.index);
        choice.finishReason = e.value.finishReason;
        choice.providerFinishReason = e.value.providerFinishReason;
        break;
      }
      case "done":
        if (e.value.usage) r.usage = clone(UsageSchema, e.value.usage);
        this.#done = true;
        break;
      default:
        // An event kind from a newer contract (or none): ignored.
        break;
    }
  }

  /** Whether the `done` event was added: the stream completed. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * The response rebuilt so far, choices ordered by index. It is a copy;
   * adding more events does not change it.
   */
  response(): CompleteResponse {
    const out = clone(CompleteResponseSchema, this.#response);
    const choices = [...this.#choices].sort(([a], [b]) => a - b);
    out.choices = choices.map(([, choice]) => clone(CompletionChoiceSchema, choice));
    return out;
  }

  /** The choice at index, created empty on first use. */
  #choice(index: number): CompletionChoice {
    let choice = this.#choices.get(index);
    if (!choice) {
      choice = create(CompletionChoiceSchema, { index });
      this.#choices.set(index, choice);
    }
    return choice;
  }
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

import { clone, create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createClient,
  type CallOptions as ConnectCallOptions,
  type Client,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import {
  ChatService,
  CompletionService,
  EmbeddingService,
  ModelService,
  RequestMetadataSchema,
  type BatchChatItemSchema,
  type BatchChatResponse,
  type ChatInputSchema,
  type ChatResponse,
  type CompleteResponse,
  type CompletionInputSchema,
  type CountTokensResponse,
  type EmbedRequestSchema,
  type EmbedResponse,
  type ListModelsRequestSchema,
  type ListModelsResponse,
  type Model,
  type RequestMetadata,
  type StreamChatResponse,
  type StreamCompleteResponse,
} from "@llmgateway/proto";
import type { SecureClientSessionOptions } from "node:http2";
import { GatewayError } from "./errors.js";
import { Health, HealthCheckResponse_ServingStatus } from "./gen/grpc/health/v1/health_pb.js";

/** What chat(), stream() and countTokens() take: a ChatInput or its plain-object form. */
export type ChatInputInit = MessageInitShape<typeof ChatInputSchema>;
/** What complete() and streamComplete() take: a CompletionInput or its plain-object form. */
export type CompletionInputInit = MessageInitShape<typeof CompletionInputSchema>;
/** One item of batchChat(): its id and ChatInput, as a BatchChatItem or a plain object. */
export type BatchChatItemInit = MessageInitShape<typeof BatchChatItemSchema>;
/** What embed() takes: an EmbedRequest or its plain-object form (see embedTexts). */
export type EmbedRequestInit = MessageInitShape<typeof EmbedRequestSchema>;
/** What listModels() and listAllModels() take. */
export type ListModelsRequestInit = MessageInitShape<typeof ListModelsRequestSchema>;

/** The deadline of a call that sets none, unless ClientOptions.timeoutMs says otherwise. */
export const DEFAULT_TIMEOUT_MS = 120_000;

/** How GatewayClient connects. */
export interface ClientOptions {
  /**
   * Connect over TLS: `true` for the system's root certificates, or
   * node:http2 options (ca, cert, key, servername, ...). Plaintext when unset,
   * unless the address is an `https://` URL.
   */
  tls?: boolean | SecureClientSessionOptions;
  /**
   * Sent as `authorization: Bearer <key>` with every call, over TLS and
   * plaintext alike (plaintext is for loopback or a trusted mesh).
   */
  apiKey?: string;
  /**
   * The deadline of calls that set none (CallOptions.timeoutMs), in
   * milliseconds; 0 means no default deadline. Default DEFAULT_TIMEOUT_MS.
   */
  timeoutMs?: number;
  /** Extra Connect interceptors (logging, tracing, ...), run after the API key's. */
  interceptors?: Interceptor[];
}

/** Options of one call. */
export interface CallOptions {
  /** Cancels the call when aborted: it then fails with Code.Canceled. */
  signal?: AbortSignal;
  /**
   * The call's deadline in milliseconds, instead of the client's default;
   * 0 means none. Past it the call fails with Code.DeadlineExceeded.
   */
  timeoutMs?: number;
  /**
   * The request id (RequestMetadata.request_id): the gateway echoes it in
   * responses, logs and error details instead of generating one. At most
   * 128 printable ASCII characters.
   */
  requestId?: string;
  /** RequestMetadata.end_user_id, forwarded to providers that accept one. */
  endUserId?: string;
  /** Observability labels (RequestMetadata.labels). */
  labels?: Record<string, string>;
  /** Extra request headers (gRPC metadata). */
  headers?: ConnectCallOptions["headers"];
}

/** Options of batchChat(): those of any call, plus the batch's concurrency. */
export interface BatchOptions extends CallOptions {
  /**
   * How many items run at once (BatchChatRequest.max_concurrency); unset or
   * 0 means the gateway's default, 8. At most 64.
   */
  maxConcurrency?: number;
}

/**
 * The result of one batch item (batchChat), tagged with the item's id:
 * either its reply or its error, never both.
 */
export type BatchResult =
  | {
      /** The item's BatchChatItem.id. */
      readonly id: string;
      /** The item's reply. */
      readonly response: ChatResponse;
      readonly error?: undefined;
    }
  | {
      /** The item's BatchChatItem.id. */
      readonly id: string;
      readonly response?: undefined;
      /**
       * The item's failure (its ItemError): code, message, reason, metadata,
       * retry delay, field violations and request id. An ItemError carries
       * no domain, so that is empty.
       */
      readonly error: GatewayError;
    };

/**
 * A client of the gateway over one HTTP/2 connection, made lazily on the
 * first call. The generated types of `@llmgateway/proto` are the data model;
 * every method fails with a GatewayError.
 *
 * ```ts
 * const client = new GatewayClient("127.0.0.1:50051", { apiKey: "..." });
 * const reply = await client.chat({ model: "fast", messages: [userMessage("Hello")] });
 * console.log(textOf(reply.message));
 * client.close();
 * ```
 */
export class GatewayClient {
  /**
   * The gRPC transport, for the generated services this client does not wrap
   * (LocalModelService, ...): `createClient(LocalModelService,
   * client.transport)`. Calls made through it carry the API key and the
   * default deadline; GatewayError.from decodes their errors.
   */
  readonly transport: Transport;
  readonly #session: Http2SessionManager;
  readonly #chat: Client<typeof ChatService>;
  readonly #completions: Client<typeof CompletionService>;
  readonly #embeddings: Client<typeof EmbeddingService>;
  readonly #models: Client<typeof ModelService>;
  readonly #health: Client<typeof Health>;

  /**
   * @param address "host:port", or a URL ("https://gateway.example.com").
   */
  constructor(address: string, options: ClientOptions = {}) {
    const baseUrl = baseUrlOf(address, options.tls !== undefined && options.tls !== false);
    const nodeOptions = typeof options.tls === "object" ? options.tls : {};
    this.#session = new Http2SessionManager(baseUrl, {}, nodeOptions);
    const interceptors = options.apiKey ? [bearer(options.apiKey)] : [];
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.transport = createGrpcTransport({
      baseUrl,
      sessionManager: this.#session,
      interceptors: [...interceptors, ...(options.interceptors ?? [])],
      ...(timeoutMs > 0 ? { defaultTimeoutMs: timeoutMs } : {}),
    });
    this.#chat = createClient(ChatService, this.transport);
    this.#completions = createClient(CompletionService, this.transport);
    this.#embeddings = createClient(EmbeddingService, this.transport);
    this.#models = createClient(ModelService, this.transport);
    this.#health = createClient(Health, this.transport);
  }

  /** Generates one assistant reply. */
  async chat(input: ChatInputInit, options: CallOptions = {}): Promise<ChatResponse> {
    return unary(() => this.#chat.chat({ input, metadata: requestMetadata(undefined, options) }, callOptions(options)));
  }

  /**
   * Generates one assistant reply as a stream of events, yielded as they
   * arrive; reassemble() (or a StreamAccumulator) rebuilds the final
   * ChatResponse. A failure, before or after events, is thrown from the loop
   * as a GatewayError. Leaving the loop early cancels the call; so does
   * aborting options.signal (the loop then throws Code.Canceled).
   *
   * ```ts
   * for await (const event of client.stream(input)) { ... }
   * ```
   */
  async *stream(input: ChatInputInit, options: CallOptions = {}): AsyncGenerator<StreamChatResponse, void, undefined> {
    const request = { input, metadata: requestMetadata(undefined, options) };
    yield* serverStream((connectOptions) => this.#chat.streamChat(request, connectOptions), options);
  }

  /**
   * Counts the input tokens of a chat request with the provider's own method
   * (Code.Unimplemented where it has none).
   */
  async countTokens(input: ChatInputInit, options: CallOptions = {}): Promise<CountTokensResponse> {
    return unary(() =>
      this.#chat.countTokens({ input, metadata: requestMetadata(undefined, options) }, callOptions(options)),
    );
  }

  /**
   * Runs many chat requests, at most options.maxConcurrency at a time, and
   * yields each item's result as it finishes (in completion order, not
   * request order). A failing item is a result with its own GatewayError
   * (`result.error`); the other items go on. A failure of the call itself
   * (an invalid batch, the deadline, cancellation) is thrown from the loop,
   * after the results already yielded. The deadline covers the whole batch;
   * leaving the loop early, or aborting options.signal, cancels the items
   * still running, as for stream().
   *
   * ```ts
   * for await (const result of client.batchChat(items, { maxConcurrency: 4 })) {
   *   if (result.error) console.error(result.id, result.error.reason);
   *   else console.log(result.id, textOf(result.response.message));
   * }
   * ```
   */
  async *batchChat(
    items: BatchChatItemInit[],
    options: BatchOptions = {},
  ): AsyncGenerator<BatchResult, void, undefined> {
    const request = {
      items,
      maxConcurrency: options.maxConcurrency ?? 0,
      metadata: requestMetadata(undefined, options),
    };
    const responses = serverStream((connectOptions) => this.#chat.batchChat(request, connectOptions), options);
    for await (const response of responses) {
      yield batchResult(response);
    }
  }

  /**
   * Generates a text completion for each prompt (CompletionService;
   * Code.Unimplemented for providers without it).
   */
  async complete(input: CompletionInputInit, options: CallOptions = {}): Promise<CompleteResponse> {
    return unary(() =>
      this.#completions.complete({ input, metadata: requestMetadata(undefined, options) }, callOptions(options)),
    );
  }

  /**
   * Generates text completions as a stream of events, yielded as they
   * arrive, like stream(): a failure is thrown from the loop as a
   * GatewayError, and leaving the loop early or aborting options.signal
   * cancels the call. reassembleCompletion() (or a CompletionAccumulator)
   * rebuilds the CompleteResponse.
   *
   * ```ts
   * for await (const event of client.streamComplete({ model: "echo", prompts: ["Once"] })) { ... }
   * ```
   */
  async *streamComplete(
    input: CompletionInputInit,
    options: CallOptions = {},
  ): AsyncGenerator<StreamCompleteResponse, void, undefined> {
    const request = { input, metadata: requestMetadata(undefined, options) };
    yield* serverStream((connectOptions) => this.#completions.streamComplete(request, connectOptions), options);
  }

  /**
   * Embeds a batch of inputs; embedTexts() builds the common request.
   * CallOptions' request id, end user and labels override request.metadata.
   */
  async embed(request: EmbedRequestInit, options: CallOptions = {}): Promise<EmbedResponse> {
    const metadata = requestMetadata(request.metadata, options);
    return unary(() => this.#embeddings.embed({ ...request, metadata }, callOptions(options)));
  }

  /** One page of models, ordered by name; listAllModels() follows the pages. */
  async listModels(request: ListModelsRequestInit = {}, options: CallOptions = {}): Promise<ListModelsResponse> {
    return unary(() => this.#models.listModels(request, callOptions(options)));
  }

  /**
   * Every model, ordered by name, fetching the pages as the loop advances.
   * request.pageSize sets the page length, request.pageToken where to start.
   * Each page gets its own deadline.
   *
   * ```ts
   * for await (const model of client.listAllModels()) console.log(model.name);
   * ```
   */
  async *listAllModels(request: ListModelsRequestInit = {}, options: CallOptions = {}): AsyncGenerator<Model, void, undefined> {
    let pageToken = request.pageToken ?? "";
    do {
      const page = await this.listModels({ ...request, pageToken }, options);
      yield* page.models;
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
  }

  /** One model by name ("echo/echo") or alias ("fast"). */
  async getModel(name: string, options: CallOptions = {}): Promise<Model> {
    const reply = await unary(() => this.#models.getModel({ name }, callOptions(options)));
    if (!reply.model) {
      throw GatewayError.from(new Error(`GetModel(${name}) returned no model`));
    }
    return reply.model;
  }

  /**
   * The serving status of a service of the gateway (grpc.health.v1): "" for
   * the whole server, "readiness" for readiness to take traffic.
   */
  async health(service = "", options: CallOptions = {}): Promise<HealthCheckResponse_ServingStatus> {
    const reply = await unary(() => this.#health.check({ service }, callOptions(options)));
    return reply.status;
  }

  /**
   * Closes the connection; calls in flight fail with Code.Canceled. A later
   * call opens a new connection.
   */
  close(): void {
    this.#session.abort();
  }
}

/** Runs a unary call, turning its failure into a GatewayError. */
async function unary<T>(call: () => Promise<T>): Promise<T> {
  for (let resent = false; ; resent = true) {
    try {
      return await call();
    } catch (error) {
      if (resent || !refusedUnprocessed(error)) {
        throw gatewayError(error);
      }
      // refused unprocessed: send it again, once
    }
  }
}

/**
 * The GatewayError of a failed call. A refused stream is UNAVAILABLE, as
 * gRPC maps REFUSED_STREAM (Connect reports Node's stream error as INTERNAL):
 * the call was never processed, so the caller may retry it.
 */
function gatewayError(error: unknown): GatewayError {
  if (refusedUnprocessed(error) && !(error instanceof ConnectError && error.code === Code.Unavailable)) {
    return GatewayError.from(new ConnectError((error as Error).message, Code.Unavailable, undefined, undefined, error));
  }
  return GatewayError.from(error);
}

/**
 * Whether the server refused the call before processing it (HTTP/2
 * RST_STREAM with REFUSED_STREAM). A connection the gateway closes
 * gracefully (GOAWAY at `max_connection_age_seconds`) refuses the streams
 * opened after its final GOAWAY; gRPC's own clients send such calls again
 * transparently, and so does this client, once. Node reports it as "Stream
 * closed with error code NGHTTP2_REFUSED_STREAM", Connect as "... error code
 * REFUSED_STREAM (0x7)".
 */
function refusedUnprocessed(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e: unknown = error; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    if (/\bREFUSED_STREAM\b|NGHTTP2_REFUSED_STREAM/.test(e.message)) {
      return true;
    }
  }
  return false;
}

/**
 * Yields the messages of the server stream that open starts (given the
 * call's Connect options), turning a failure into a GatewayError, and ends
 * the call when the consumer stops early.
 */
async function* serverStream<T>(
  open: (options: ConnectCallOptions) => AsyncIterable<T>,
  options: CallOptions,
): AsyncGenerator<T, void, undefined> {
  // Connect's stream iterable has no return(): leaving the loop early would
  // leave the call (and its deadline timer) running. So the call gets its
  // own signal, aborted in `finally` when the stream has not ended, and one
  // more read lets Connect observe the abort and release the call.
  const call = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, call.signal]) : call.signal;
  let messages = open(callOptions({ ...options, signal }))[Symbol.asyncIterator]();
  let ended = false;
  let opened = false; // a message arrived, or the call was sent once more
  try {
    for (;;) {
      let next: IteratorResult<T>;
      try {
        next = await messages.next();
      } catch (error) {
        if (!opened && refusedUnprocessed(error)) {
          opened = true; // refused unprocessed: open it again, once (as unary does)
          messages = open(callOptions({ ...options, signal }))[Symbol.asyncIterator]();
          continue;
        }
        ended = true;
        throw gatewayError(error);
      }
      opened = true;
      if (next.done) {
        ended = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!ended) {
      call.abort();
      await messages.next().catch(() => undefined);
    }
  }
}

const UNKNOWN_BATCH_RESULT = "batch item result of a kind this client does not know";

/** A BatchChatResponse as a BatchResult: its reply, or its ItemError as a GatewayError. */
function batchResult(response: BatchChatResponse): BatchResult {
  const { id, result } = response;
  switch (result.case) {
    case "response":
      return { id, response: result.value };
    case "error":
      return { id, error: GatewayError.fromItemError(result.value) };
    default:
      // A result kind from a newer contract (or none).
      return { id, error: new GatewayError(new ConnectError(UNKNOWN_BATCH_RESULT, Code.Unknown)) };
  }
}

function callOptions(options: CallOptions): ConnectCallOptions {
  const out: ConnectCallOptions = {};
  if (options.signal) out.signal = options.signal;
  if (options.timeoutMs !== undefined) out.timeoutMs = options.timeoutMs;
  if (options.headers) out.headers = options.headers;
  return out;
}

/**
 * RequestMetadata: base (which it does not modify) with the call options'
 * request id, end user and labels on top; undefined when there is nothing
 * to send.
 */
function requestMetadata(
  base: MessageInitShape<typeof RequestMetadataSchema> | undefined,
  options: CallOptions,
): RequestMetadata | undefined {
  const { requestId, endUserId, labels } = options;
  if (requestId === undefined && endUserId === undefined && labels === undefined) {
    return base === undefined ? undefined : create(RequestMetadataSchema, base);
  }
  const metadata = clone(RequestMetadataSchema, create(RequestMetadataSchema, base ?? {}));
  if (requestId !== undefined) metadata.requestId = requestId;
  if (endUserId !== undefined) metadata.endUserId = endUserId;
  if (labels !== undefined) Object.assign(metadata.labels, labels);
  return metadata;
}

/** The transport's base URL for an address: "host:port" or a URL. */
function baseUrlOf(address: string, tls: boolean): string {
  if (/^https?:\/\//.test(address)) {
    return address;
  }
  return `${tls ? "https" : "http"}://${address}`;
}

/** Sends the API key as `authorization: Bearer <key>`. */
function bearer(apiKey: string): Interceptor {
  return (next) => (request) => {
    request.header.set("authorization", `Bearer ${apiKey}`);
    return next(request);
  };
}

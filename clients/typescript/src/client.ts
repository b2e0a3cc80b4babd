import { clone, create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  createClient,
  type CallOptions as ConnectCallOptions,
  type Client,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import {
  ChatService,
  EmbeddingService,
  ModelService,
  RequestMetadataSchema,
  type ChatInputSchema,
  type ChatResponse,
  type CountTokensResponse,
  type EmbedRequestSchema,
  type EmbedResponse,
  type ListModelsRequestSchema,
  type ListModelsResponse,
  type Model,
  type RequestMetadata,
  type StreamChatResponse,
} from "@llmgateway/proto";
import type { SecureClientSessionOptions } from "node:http2";
import { GatewayError } from "./errors.js";
import { Health, HealthCheckResponse_ServingStatus } from "./gen/grpc/health/v1/health_pb.js";

/** What chat(), stream() and countTokens() take: a ChatInput or its plain-object form. */
export type ChatInputInit = MessageInitShape<typeof ChatInputSchema>;
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
   * (BatchChat, CompletionService, ...): `createClient(CompletionService,
   * client.transport)`. Calls made through it carry the API key and the
   * default deadline; GatewayError.from decodes their errors.
   */
  readonly transport: Transport;
  readonly #session: Http2SessionManager;
  readonly #chat: Client<typeof ChatService>;
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
    // Connect's stream iterable has no return(): leaving the loop early would
    // leave the call (and its deadline timer) running. So the call gets its
    // own signal, aborted in `finally` when the stream has not ended, and one
    // more read lets Connect observe the abort and release the call.
    const call = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, call.signal]) : call.signal;
    const request = { input, metadata: requestMetadata(undefined, options) };
    const events = this.#chat.streamChat(request, callOptions({ ...options, signal }))[Symbol.asyncIterator]();
    let ended = false;
    try {
      for (;;) {
        let next: IteratorResult<StreamChatResponse>;
        try {
          next = await events.next();
        } catch (error) {
          ended = true;
          throw GatewayError.from(error);
        }
        if (next.done) {
          ended = true;
          return;
        }
        yield next.value;
      }
    } finally {
      if (!ended) {
        call.abort();
        await events.next().catch(() => undefined);
      }
    }
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
  try {
    return await call();
  } catch (error) {
    throw GatewayError.from(error);
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

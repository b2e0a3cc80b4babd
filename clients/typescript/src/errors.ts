import { Code, ConnectError } from "@connectrpc/connect";
import { rpc, type ItemError } from "@llmgateway/proto";

/** One invalid field of a request (google.rpc.BadRequest.FieldViolation). */
export interface FieldViolation {
  /** The field's path, such as "input.messages". */
  readonly field: string;
  /** What is wrong with it. */
  readonly description: string;
}

/**
 * A failed call: its gRPC code and message, with the rich details the
 * gateway sends in `grpc-status-details-bin` (google.rpc.ErrorInfo,
 * RetryInfo, BadRequest and RequestInfo) decoded. Every method of
 * GatewayClient rejects (or, for streams, throws) with a GatewayError:
 *
 * ```ts
 * try {
 *   await client.chat({ model: "no-such-model", messages: [userMessage("hi")] });
 * } catch (err) {
 *   if (err instanceof GatewayError && err.reason === "MODEL_NOT_FOUND") { ... }
 * }
 * ```
 */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  /** The gRPC status code (Connect's Code has the same values). */
  readonly code: Code;
  /** The developer-facing message of the status, without any prefix. */
  readonly rawMessage: string;
  /**
   * The stable reason of ErrorInfo ("MODEL_NOT_FOUND"; see the ErrorReason
   * enum of the contract), "" when the status carried none.
   */
  readonly reason: string;
  /** ErrorInfo's domain: "llmgateway" for the gateway's errors. */
  readonly domain: string;
  /**
   * ErrorInfo's context: "provider", "model", "feature", "upstream_status",
   * "upstream_request_id", ...
   */
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * RetryInfo's delay in milliseconds: how long to wait before retrying.
   * Undefined when the status carried no RetryInfo (retrying will not help).
   */
  readonly retryDelayMs: number | undefined;
  /** BadRequest's violations, one per invalid field (INVALID_ARGUMENT). */
  readonly fieldViolations: readonly FieldViolation[];
  /** RequestInfo's request id: the gateway's id of the failed call. */
  readonly requestId: string;
  /** The ConnectError this was decoded from (headers, trailers, raw details). */
  override readonly cause: ConnectError;

  constructor(cause: ConnectError) {
    const info = cause.findDetails(rpc.ErrorInfoSchema)[0];
    const retry = cause.findDetails(rpc.RetryInfoSchema)[0];
    const requestId = cause.findDetails(rpc.RequestInfoSchema)[0]?.requestId ?? "";
    super(formatMessage(cause.code, info?.reason ?? "", cause.rawMessage, requestId), { cause });
    this.cause = cause;
    this.code = cause.code;
    this.rawMessage = cause.rawMessage;
    this.reason = info?.reason ?? "";
    this.domain = info?.domain ?? "";
    this.metadata = { ...info?.metadata };
    this.retryDelayMs = retry?.retryDelay
      ? Number(retry.retryDelay.seconds) * 1000 + retry.retryDelay.nanos / 1_000_000
      : undefined;
    this.fieldViolations = cause
      .findDetails(rpc.BadRequestSchema)
      .flatMap((badRequest) => badRequest.fieldViolations)
      .map(({ field, description }) => ({ field, description }));
    this.requestId = requestId;
  }

  /** The gRPC name of the code: "NOT_FOUND", "CANCELLED", ... */
  get codeName(): string {
    return grpcCodeName(this.code);
  }

  /**
   * Converts any error of a call into a GatewayError (returned as is when it
   * already is one). GatewayClient's methods do this already; use it for
   * calls made with the generated services over GatewayClient.transport.
   */
  static from(error: unknown): GatewayError {
    return error instanceof GatewayError ? error : new GatewayError(ConnectError.from(error));
  }

  /**
   * The GatewayError of a failed batch item (BatchChatResponse.error; see
   * GatewayClient.batchChat): the ItemError's code, message, reason,
   * metadata, retry delay, field violations and request id. An ItemError
   * carries no domain, so that is empty. cause.details holds what a failed
   * call's status would: a google.rpc.ErrorInfo (reason, metadata),
   * RetryInfo, BadRequest and RequestInfo.
   */
  static fromItemError(item: ItemError): GatewayError {
    // An item error is never OK; a code outside gRPC's is UNKNOWN.
    const code = item.code > 0 && item.code in Code ? (item.code as Code) : Code.Unknown;
    const details: ConstructorParameters<typeof ConnectError>[3] = [];
    if (item.reason !== "" || Object.keys(item.metadata).length > 0) {
      details.push({ desc: rpc.ErrorInfoSchema, value: { reason: item.reason, metadata: { ...item.metadata } } });
    }
    if (item.retryDelay) {
      details.push({ desc: rpc.RetryInfoSchema, value: { retryDelay: item.retryDelay } });
    }
    if (item.fieldViolations.length > 0) {
      const fieldViolations = item.fieldViolations.map(({ field, description }) => ({ field, description }));
      details.push({ desc: rpc.BadRequestSchema, value: { fieldViolations } });
    }
    if (item.requestId !== "") {
      details.push({ desc: rpc.RequestInfoSchema, value: { requestId: item.requestId } });
    }
    return new GatewayError(new ConnectError(item.message, code, undefined, details));
  }
}

/** The gRPC name of a status code: "NOT_FOUND" for Code.NotFound. */
export function grpcCodeName(code: Code): string {
  return rpc.Code[code as number as rpc.Code] ?? `CODE_${code}`;
}

function formatMessage(code: Code, reason: string, message: string, requestId: string): string {
  let text = grpcCodeName(code);
  if (reason) text += ` ${reason}`;
  text += `: ${message}`;
  if (requestId) text += ` (request id ${requestId})`;
  return text;
}

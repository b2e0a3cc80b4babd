// @llmgateway/client: a thin client of the LLM gateway's gRPC API.
//
// client.ts     GatewayClient: connection, calls, streaming, batches, paging, health
// errors.ts     GatewayError: the status code and decoded rich details
// reassemble.ts reassemble() / StreamAccumulator: stream events -> ChatResponse;
//               reassembleCompletion() / CompletionAccumulator: -> CompleteResponse
// helpers.ts    small builders (userMessage, embedTexts, providerOptions, textOf)
//
// The generated types (@llmgateway/proto) are the data model; they are
// re-exported here so that one import is enough.

export * from "@llmgateway/proto";
export { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
export {
  GatewayClient,
  DEFAULT_TIMEOUT_MS,
  type BatchChatItemInit,
  type BatchOptions,
  type BatchResult,
  type CallOptions,
  type ChatInputInit,
  type ClientOptions,
  type CompletionInputInit,
  type EmbedRequestInit,
  type ListModelsRequestInit,
} from "./client.js";
export { GatewayError, grpcCodeName, type FieldViolation } from "./errors.js";
export { CompletionAccumulator, reassemble, reassembleCompletion, StreamAccumulator } from "./reassemble.js";
export { embedTexts, providerOptions, textOf, userMessage } from "./helpers.js";
export {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "./gen/grpc/health/v1/health_pb.js";

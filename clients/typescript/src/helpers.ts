import { create } from "@bufbuild/protobuf";
import {
  EmbedRequestSchema,
  MessageSchema,
  ProviderOptionsSchema,
  Role,
  type EmbedRequest,
  type Message,
  type ProviderOptions,
} from "@llmgateway/proto";

/** A user message with one text part per text. */
export function userMessage(...texts: string[]): Message {
  return create(MessageSchema, {
    role: Role.USER,
    parts: texts.map((text) => ({ kind: { case: "text" as const, value: text } })),
  });
}

/**
 * The concatenated text parts of a message (reasoning and tool calls left
 * out): the reply's text, for `textOf(reply.message)`.
 */
export function textOf(message: Message | undefined): string {
  let text = "";
  for (const part of message?.parts ?? []) {
    if (part.kind.case === "text") text += part.kind.value;
  }
  return text;
}

/**
 * An EmbedRequest for text inputs, for GatewayClient.embed; set the other
 * fields (dimensions, taskType, ...) on the result as needed.
 */
export function embedTexts(model: string, ...texts: string[]): EmbedRequest {
  return create(EmbedRequestSchema, {
    model,
    inputs: texts.map((text) => ({ content: { case: "text" as const, value: text } })),
  });
}

/**
 * ProviderOptions from plain objects, one per provider type or name:
 * `providerOptions({ echo: { delay_ms: 5000 } })`. Each value is sent as
 * JSON text (ProviderOptions.json_by_provider).
 */
export function providerOptions(byProvider: Record<string, Record<string, unknown>>): ProviderOptions {
  const jsonByProvider: Record<string, string> = {};
  for (const [provider, options] of Object.entries(byProvider)) {
    jsonByProvider[provider] = JSON.stringify(options);
  }
  return create(ProviderOptionsSchema, { jsonByProvider });
}

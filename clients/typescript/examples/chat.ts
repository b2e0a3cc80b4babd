// A chat and a stream against a local gateway (`make run` serves
// 127.0.0.1:50051; LLMGATEWAY_ADDRESS overrides it).
//
//   npm run build && node dist/examples/chat.js
import {
  GatewayClient,
  GatewayError,
  StreamAccumulator,
  textOf,
  userMessage,
} from "@llmgateway/client";

const address = process.env["LLMGATEWAY_ADDRESS"] ?? "127.0.0.1:50051";
const client = new GatewayClient(address, { timeoutMs: 30_000 });

try {
  // One reply.
  const reply = await client.chat({ model: "echo", messages: [userMessage("Hello, gateway!")] });
  console.log(`chat: ${textOf(reply.message)} (provider ${reply.provider}, request id ${reply.requestId})`);

  // The same, streamed: print the text as it arrives, then the rebuilt reply.
  const accumulator = new StreamAccumulator();
  process.stdout.write("stream: ");
  for await (const event of client.stream({ model: "echo", messages: [userMessage("Streaming works word by word")] })) {
    accumulator.add(event);
    if (event.event.case === "textDelta") process.stdout.write(event.event.value.text);
  }
  const streamed = accumulator.response();
  console.log(`\nstream total tokens: ${streamed.usage?.totalTokens ?? 0n}`);
} catch (error) {
  if (error instanceof GatewayError) {
    console.error(`gateway error ${error.codeName} ${error.reason}: ${error.rawMessage}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
} finally {
  client.close();
}

// Offline: a call the server refused unprocessed (HTTP/2 RST_STREAM
// REFUSED_STREAM, as a connection closing after a graceful GOAWAY does) is
// sent once more; any other failure is not. A real HTTP/2 server on loopback.
import assert from "node:assert/strict";
import { once } from "node:events";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { Code, GatewayClient, GatewayError, ServingStatus, userMessage } from "@llmgateway/client";

/** A gRPC server that answers Health.Check with SERVING, after first
 * closing the first `refuse` streams with the given HTTP/2 error code. */
async function server(refuse: number, code: number) {
  const seen: string[] = [];
  const h2 = http2.createServer();
  h2.on("stream", (stream, headers) => {
    seen.push(String(headers[":path"]));
    stream.on("data", () => undefined);
    stream.on("error", () => undefined); // the reset, on the server's side
    if (seen.length <= refuse) {
      stream.close(code);
      return;
    }
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    // HealthCheckResponse{status: SERVING}, length-prefixed; to a streaming
    // call, one empty StreamChatResponse.
    const streaming = String(headers[":path"]).endsWith("/StreamChat");
    stream.end(Buffer.from(streaming ? [0, 0, 0, 0, 0] : [0, 0, 0, 0, 2, 0x08, 0x01]));
  });
  h2.listen(0, "127.0.0.1");
  await once(h2, "listening");
  const { port } = h2.address() as AddressInfo;
  return { address: `127.0.0.1:${port}`, seen, close: () => h2.close() };
}

/** Runs `check` with a client of a fake that resets its first `refuse`
 * streams with `code`, and returns the paths of the streams the fake saw. */
async function against(refuse: number, code: number, check: (client: GatewayClient) => Promise<void>) {
  const fake = await server(refuse, code);
  const client = new GatewayClient(fake.address);
  try {
    await check(client);
    return fake.seen;
  } finally {
    client.close();
    fake.close();
  }
}

const HEALTH = "/grpc.health.v1.Health/Check";

test("a call refused unprocessed is sent once more", async () => {
  const seen = await against(1, http2.constants.NGHTTP2_REFUSED_STREAM, async (client) => {
    assert.equal(await client.health(), ServingStatus.SERVING);
  });
  assert.deepEqual(seen, [HEALTH, HEALTH]);
});

test("a stream refused unprocessed is opened once more", async () => {
  const seen = await against(1, http2.constants.NGHTTP2_REFUSED_STREAM, async (client) => {
    const events = [];
    for await (const event of client.stream({ model: "echo", messages: [userMessage("hi")] })) {
      events.push(event);
    }
    assert.equal(events.length, 1);
  });
  assert.deepEqual(seen, ["/llmgateway.v1.ChatService/StreamChat", "/llmgateway.v1.ChatService/StreamChat"]);
});

test("only once: a second refusal is the caller's error", async () => {
  const seen = await against(2, http2.constants.NGHTTP2_REFUSED_STREAM, async (client) => {
    await assert.rejects(client.health(), (error) => error instanceof GatewayError && error.code === Code.Unavailable);
  });
  assert.equal(seen.length, 2);
});

test("a call the server may have processed is never sent again", async () => {
  const seen = await against(1, http2.constants.NGHTTP2_INTERNAL_ERROR, async (client) => {
    await assert.rejects(client.health(), (error) => error instanceof GatewayError && error.code === Code.Internal);
  });
  assert.equal(seen.length, 1);
});

// Offline tests of GatewayError: decoding grpc-status-details-bin as the
// gateway sends it (service/llm_gateway/api/errors.py).
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { anyPack, type Any } from "@bufbuild/protobuf/wkt";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { Code, ConnectError, GatewayError, ItemErrorSchema, grpcCodeName, rpc } from "@llmgateway/client";

function pack<Desc extends DescMessage>(schema: Desc, init: MessageInitShape<Desc>): Any {
  return anyPack(schema, create(schema, init));
}

/** The ConnectError Connect builds from a gRPC trailer with rich details. */
function wireError(code: number, message: string, details: Any[]): ConnectError {
  const status = create(rpc.StatusSchema, { code, message, details });
  const trailer = new Headers({
    "grpc-status": String(code),
    "grpc-message": encodeURIComponent(message),
    "grpc-status-details-bin": Buffer.from(toBinary(rpc.StatusSchema, status)).toString("base64"),
  });
  const error = findTrailerError(trailer);
  assert.ok(error);
  return error;
}

test("decodes ErrorInfo, RetryInfo, BadRequest and RequestInfo", () => {
  const error = GatewayError.from(
    wireError(3, "invalid request", [
      pack(rpc.ErrorInfoSchema, { reason: "INVALID_REQUEST", domain: "llmgateway", metadata: { model: "echo" } }),
      pack(rpc.RetryInfoSchema, { retryDelay: { seconds: 1n, nanos: 500_000_000 } }),
      pack(rpc.BadRequestSchema, {
        fieldViolations: [{ field: "input.messages", description: "at least one message is required" }],
      }),
      pack(rpc.RequestInfoSchema, { requestId: "req-1" }),
    ]),
  );
  assert.equal(error.code, Code.InvalidArgument);
  assert.equal(error.codeName, "INVALID_ARGUMENT");
  assert.equal(error.rawMessage, "invalid request");
  assert.equal(error.reason, "INVALID_REQUEST");
  assert.equal(error.domain, "llmgateway");
  assert.deepEqual(error.metadata, { model: "echo" });
  assert.equal(error.retryDelayMs, 1500);
  assert.deepEqual(error.fieldViolations, [
    { field: "input.messages", description: "at least one message is required" },
  ]);
  assert.equal(error.requestId, "req-1");
  assert.equal(error.message, "INVALID_ARGUMENT INVALID_REQUEST: invalid request (request id req-1)");
  assert.ok(error instanceof Error);
  assert.ok(error.cause instanceof ConnectError);
});

test("a status without details has empty details", () => {
  const error = GatewayError.from(wireError(14, "unavailable", []));
  assert.equal(error.code, Code.Unavailable);
  assert.equal(error.reason, "");
  assert.equal(error.domain, "");
  assert.deepEqual(error.metadata, {});
  assert.equal(error.retryDelayMs, undefined);
  assert.deepEqual(error.fieldViolations, []);
  assert.equal(error.requestId, "");
  assert.equal(error.message, "UNAVAILABLE: unavailable");
});

test("from() keeps a GatewayError and wraps any other error", () => {
  const error = GatewayError.from(new ConnectError("gone", Code.Canceled));
  assert.equal(GatewayError.from(error), error);
  assert.equal(error.codeName, "CANCELLED");
  assert.equal(GatewayError.from(new Error("boom")).code, Code.Unknown);
});

test("gRPC code names", () => {
  assert.equal(grpcCodeName(Code.DeadlineExceeded), "DEADLINE_EXCEEDED");
  assert.equal(grpcCodeName(Code.ResourceExhausted), "RESOURCE_EXHAUSTED");
  assert.equal(grpcCodeName(Code.Unauthenticated), "UNAUTHENTICATED");
});

test("fromItemError: a batch item's error, as the gateway sends it (api/errors.py to_item_error)", () => {
  const error = GatewayError.fromItemError(
    create(ItemErrorSchema, {
      code: 8,
      message: "rate limited",
      reason: "UPSTREAM_RATE_LIMITED",
      metadata: { provider: "echo", model: "echo" },
      retryDelay: { seconds: 2n, nanos: 250_000_000 },
    }),
  );
  assert.equal(error.code, Code.ResourceExhausted);
  assert.equal(error.codeName, "RESOURCE_EXHAUSTED");
  assert.equal(error.rawMessage, "rate limited");
  assert.equal(error.reason, "UPSTREAM_RATE_LIMITED");
  assert.deepEqual(error.metadata, { provider: "echo", model: "echo" });
  assert.equal(error.retryDelayMs, 2250);
  assert.equal(error.domain, "");
  assert.deepEqual(error.fieldViolations, []);
  assert.equal(error.requestId, "");
  assert.equal(error.message, "RESOURCE_EXHAUSTED UPSTREAM_RATE_LIMITED: rate limited");
  assert.equal(error.cause.findDetails(rpc.ErrorInfoSchema)[0]?.reason, "UPSTREAM_RATE_LIMITED");
});

test("fromItemError: an invalid item's field violations and request id", () => {
  const error = GatewayError.fromItemError(
    create(ItemErrorSchema, {
      code: 3,
      message: "invalid request",
      reason: "INVALID_REQUEST",
      fieldViolations: [{ field: "items[2].input.model", description: "required" }],
      requestId: "batch-1.2",
    }),
  );
  assert.equal(error.code, Code.InvalidArgument);
  assert.deepEqual(error.fieldViolations, [{ field: "items[2].input.model", description: "required" }]);
  assert.equal(error.requestId, "batch-1.2");
  assert.equal(error.message, "INVALID_ARGUMENT INVALID_REQUEST: invalid request (request id batch-1.2)");
});

test("fromItemError: no details, and codes outside gRPC's are UNKNOWN", () => {
  const plain = GatewayError.fromItemError(create(ItemErrorSchema, { code: 5, message: "not found" }));
  assert.equal(plain.code, Code.NotFound);
  assert.equal(plain.reason, "");
  assert.deepEqual(plain.metadata, {});
  assert.equal(plain.retryDelayMs, undefined);
  assert.deepEqual(plain.cause.details, []);
  for (const code of [0, 17, -1]) {
    assert.equal(GatewayError.fromItemError(create(ItemErrorSchema, { code, message: "odd" })).code, Code.Unknown);
  }
});

package llmgateway_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	llmgateway "github.com/llm-gateway/llm-gateway/clients/go"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Offline tests of what the live gateway cannot show: the API key header,
// the default deadline, and error decoding.

// healthServer records the authorization header; service "slow" never
// answers.
type healthServer struct {
	healthpb.UnimplementedHealthServer
	authorization chan string
}

func (s *healthServer) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.authorization <- firstOf(md.Get("authorization"))
	if req.GetService() == "slow" {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

func firstOf(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

func localServer(t *testing.T) (string, *healthServer) {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer()
	health := &healthServer{authorization: make(chan string, 8)}
	healthpb.RegisterHealthServer(server, health)
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)
	return listener.Addr().String(), health
}

func TestAPIKeyIsSentAsBearerMetadata(t *testing.T) {
	address, server := localServer(t)
	c, err := llmgateway.New(address, llmgateway.WithAPIKey("k-123"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Health(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	if got := <-server.authorization; got != "Bearer k-123" {
		t.Errorf("authorization = %q, want Bearer k-123", got)
	}
}

func TestDefaultDeadlineAppliesWhenTheContextHasNone(t *testing.T) {
	address, _ := localServer(t)
	c, err := llmgateway.New(address, llmgateway.WithTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	started := time.Now()
	_, err = c.Health(context.Background(), "slow")
	if status.Code(err) != codes.DeadlineExceeded || time.Since(started) > 2*time.Second {
		t.Errorf("Health(slow) = %v after %v; want DeadlineExceeded after 100ms", err, time.Since(started))
	}
}

func TestAsErrorDecodesRichDetails(t *testing.T) {
	s, err := status.New(codes.InvalidArgument, "bad request").WithDetails(
		&errdetails.ErrorInfo{Reason: "INVALID_REQUEST", Domain: "llmgateway", Metadata: map[string]string{"model": "m"}},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(1500 * time.Millisecond)},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "input.messages", Description: "at least one message"}}},
		&errdetails.RequestInfo{RequestId: "req-1"},
	)
	if err != nil {
		t.Fatal(err)
	}
	converted := llmgateway.AsError(s.Err())
	var e *llmgateway.Error
	if !errors.As(converted, &e) {
		t.Fatalf("AsError gave %T", converted)
	}
	if e.Code != codes.InvalidArgument || e.Message != "bad request" || e.Reason != "INVALID_REQUEST" ||
		e.Domain != "llmgateway" || e.Metadata["model"] != "m" || e.RetryDelay != 1500*time.Millisecond ||
		len(e.FieldViolations) != 1 || e.FieldViolations[0].GetField() != "input.messages" || e.RequestID != "req-1" {
		t.Errorf("decoded %+v", e)
	}
	if want := "llmgateway: InvalidArgument INVALID_REQUEST: bad request (request id req-1)"; e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	if status.Code(converted) != codes.InvalidArgument || len(status.Convert(converted).Details()) != 4 {
		t.Error("the *Error does not expose its gRPC status")
	}
	if llmgateway.AsError(nil) != nil || llmgateway.AsError(converted) != converted {
		t.Error("AsError(nil) must be nil and AsError(*Error) the same error")
	}
	canceled := llmgateway.AsError(status.Error(codes.Canceled, "context canceled"))
	if !errors.Is(canceled, context.Canceled) || errors.Is(canceled, context.DeadlineExceeded) {
		t.Error("a Canceled *Error must match context.Canceled only")
	}
}

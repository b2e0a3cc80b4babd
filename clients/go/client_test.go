package llmgateway_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	llmgateway "github.com/llm-gateway/llm-gateway/clients/go"
	llmgatewayv1 "github.com/llm-gateway/llm-gateway/generated/go/llmgateway/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Offline tests of what the live gateway cannot show: the API key header,
// the default deadline, error decoding (of calls and of batch items), and
// the server seeing a stream's cancellation.

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

// localServer serves health, plus what register adds, on a loopback port.
func localServer(t *testing.T, register ...func(*grpc.Server)) (string, *healthServer) {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer()
	health := &healthServer{authorization: make(chan string, 8)}
	healthpb.RegisterHealthServer(server, health)
	for _, r := range register {
		r(server)
	}
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

// batchServer answers BatchChat with a reply, two item errors carrying every
// ItemError field between them, a result of no known kind, then the status
// fail.
type batchServer struct {
	llmgatewayv1.UnimplementedChatServiceServer
	requests chan *llmgatewayv1.BatchChatRequest
	fail     error
}

func (s *batchServer) BatchChat(req *llmgatewayv1.BatchChatRequest, stream llmgatewayv1.ChatService_BatchChatServer) error {
	s.requests <- req
	for _, r := range []*llmgatewayv1.BatchChatResponse{
		{Id: "ok", Result: &llmgatewayv1.BatchChatResponse_Response{Response: &llmgatewayv1.ChatResponse{
			Message: llmgateway.UserMessage("fine")}}},
		{Id: "limited", Result: &llmgatewayv1.BatchChatResponse_Error{Error: &llmgatewayv1.ItemError{
			Code: int32(codes.ResourceExhausted), Message: "slow down", Reason: "UPSTREAM_RATE_LIMITED",
			Metadata: map[string]string{"provider": "p"}, RetryDelay: durationpb.New(2 * time.Second)}}},
		{Id: "invalid", Result: &llmgatewayv1.BatchChatResponse_Error{Error: &llmgatewayv1.ItemError{
			Code: int32(codes.InvalidArgument), Message: "invalid request", Reason: "INVALID_REQUEST",
			FieldViolations: []*llmgatewayv1.FieldViolation{{Field: "items[2].input.model", Description: "required"}},
			RequestId:       "batch-1.2"}}},
		{Id: "unknown"},
	} {
		if err := stream.Send(r); err != nil {
			return err
		}
	}
	return s.fail
}

func TestBatchChatItemErrorsAndCallFailure(t *testing.T) {
	server := &batchServer{requests: make(chan *llmgatewayv1.BatchChatRequest, 1),
		fail: status.Error(codes.Unavailable, "gone")}
	address, _ := localServer(t, func(s *grpc.Server) { llmgatewayv1.RegisterChatServiceServer(s, server) })
	c, err := llmgateway.New(address)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	items := []*llmgatewayv1.BatchChatItem{{Id: "ok"}, {Id: "limited"}, {Id: "invalid"}, {Id: "unknown"}}
	var results []llmgateway.BatchResult
	var callErr error
	for result, err := range c.BatchChat(t.Context(), items, 3, llmgateway.WithRequestID("batch-1")) {
		if err != nil {
			if callErr != nil {
				t.Error("more than one call error")
			}
			callErr = err
			continue
		}
		results = append(results, result)
	}
	request := <-server.requests
	if len(request.GetItems()) != 4 || request.GetMaxConcurrency() != 3 || request.GetMetadata().GetRequestId() != "batch-1" {
		t.Errorf("request = %v; want the 4 items, max concurrency 3, request id batch-1", request)
	}
	if len(results) != 4 {
		t.Fatalf("%d results, want 4", len(results))
	}
	if r := results[0]; r.ID != "ok" || r.Err != nil || llmgateway.Text(r.Response.GetMessage()) != "fine" {
		t.Errorf("result 0 = %+v, want ok's reply", r)
	}
	var e *llmgateway.Error
	if r := results[1]; r.ID != "limited" || r.Response != nil || !errors.As(r.Err, &e) {
		t.Fatalf("result 1 = %+v, want limited's *Error", r)
	}
	if e.Code != codes.ResourceExhausted || e.Message != "slow down" || e.Reason != "UPSTREAM_RATE_LIMITED" ||
		e.Metadata["provider"] != "p" || e.RetryDelay != 2*time.Second {
		t.Errorf("item error = %+v", e)
	}
	if s := status.Convert(e); s.Code() != codes.ResourceExhausted || len(s.Details()) != 2 {
		t.Errorf("item error status = %v, want ResourceExhausted with ErrorInfo and RetryInfo", s)
	}
	if r := results[2]; r.ID != "invalid" || !errors.As(r.Err, &e) {
		t.Fatalf("result 2 = %+v, want invalid's *Error", r)
	}
	if e.Code != codes.InvalidArgument || e.RequestID != "batch-1.2" || len(e.FieldViolations) != 1 ||
		e.FieldViolations[0].GetField() != "items[2].input.model" || e.FieldViolations[0].GetDescription() != "required" {
		t.Errorf("item error = %+v, want its field violation and request id", e)
	}
	if s := status.Convert(e); len(s.Details()) != 3 {
		t.Errorf("item error status = %v, want ErrorInfo, BadRequest and RequestInfo", s)
	}
	if r := results[3]; r.ID != "unknown" || r.Response != nil || status.Code(r.Err) != codes.Unknown {
		t.Errorf("result 3 = %+v, want an Unknown item error", r)
	}
	if !errors.As(callErr, &e) || e.Code != codes.Unavailable {
		t.Errorf("call error = %v, want an Unavailable *Error after the results", callErr)
	}
}

// completionServer streams a start event, then waits for the call's end
// and reports why it ended.
type completionServer struct {
	llmgatewayv1.UnimplementedCompletionServiceServer
	ended chan error
}

func (s *completionServer) StreamComplete(_ *llmgatewayv1.StreamCompleteRequest, stream llmgatewayv1.CompletionService_StreamCompleteServer) error {
	err := stream.Send(&llmgatewayv1.StreamCompleteResponse{Event: &llmgatewayv1.StreamCompleteResponse_Start{
		Start: &llmgatewayv1.CompletionStart{Id: "cmpl_1"}}})
	if err == nil {
		<-stream.Context().Done()
		err = stream.Context().Err()
	}
	s.ended <- err
	return err
}

func TestLeavingAStreamEarlyCancelsTheCall(t *testing.T) {
	server := &completionServer{ended: make(chan error, 1)}
	address, _ := localServer(t, func(s *grpc.Server) { llmgatewayv1.RegisterCompletionServiceServer(s, server) })
	c, err := llmgateway.New(address)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for event, err := range c.StreamComplete(t.Context(), &llmgatewayv1.CompletionInput{Model: "m", Prompts: []string{"p"}}) {
		if err != nil || event.GetStart().GetId() != "cmpl_1" {
			t.Fatalf("first event = %v, %v", event, err)
		}
		break
	}
	select {
	case err := <-server.ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the call ended with %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Error("the server still runs 2s after the loop ended")
	}
}

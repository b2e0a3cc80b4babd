package llmgateway_test

// The scenarios of clients/TESTING.md, against the live environment at
// LLMGATEWAY_ADDRESS (python -m tests.support.client_env). Each test fails,
// never skips, when the variable is unset.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	llmgateway "github.com/llm-gateway/llm-gateway/clients/go"
	llmgatewayv1 "github.com/llm-gateway/llm-gateway/generated/go/llmgateway/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// gateway is a client of the live environment, closed when the test ends.
func gateway(t *testing.T, opts ...llmgateway.Option) *llmgateway.Client {
	t.Helper()
	return clientOf(t, "LLMGATEWAY_ADDRESS", opts...)
}

// clientOf is a client of the gateway whose address is in variable.
func clientOf(t *testing.T, variable string, opts ...llmgateway.Option) *llmgateway.Client {
	t.Helper()
	address := os.Getenv(variable)
	if address == "" {
		t.Fatal(variable + " is not set: start `python -m tests.support.client_env` (clients/TESTING.md)")
	}
	// A short default deadline, so that a broken server fails the suite fast.
	c, err := llmgateway.New(address, append([]llmgateway.Option{llmgateway.WithTimeout(10 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatalf("New(%q): %v", address, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func input(model string, messages ...*llmgatewayv1.Message) *llmgatewayv1.ChatInput {
	return &llmgatewayv1.ChatInput{Model: model, Messages: messages}
}

func echoOptions(json string) *llmgatewayv1.ProviderOptions {
	return &llmgatewayv1.ProviderOptions{JsonByProvider: map[string]string{"echo": json}}
}

// gatewayError is err as *llmgateway.Error, failing the test when it is not.
func gatewayError(t *testing.T, err error) *llmgateway.Error {
	t.Helper()
	if err == nil {
		t.Fatal("the call succeeded; want an error")
	}
	var gwErr *llmgateway.Error
	if !errors.As(err, &gwErr) {
		t.Fatalf("error %v (%T) is not a *llmgateway.Error", err, err)
	}
	return gwErr
}

type toolCall struct{ name, arguments string }

func toolCalls(m *llmgatewayv1.Message) []toolCall {
	var calls []toolCall
	for _, p := range m.GetParts() {
		if c := p.GetToolCall(); c != nil {
			calls = append(calls, toolCall{c.GetName(), c.GetArgumentsJson()})
		}
	}
	return calls
}

// Scenario 1.
func TestUnaryChat(t *testing.T) {
	c := gateway(t)
	reply, err := c.Chat(t.Context(), input("fast", llmgateway.UserMessage("hello from go")))
	if err != nil {
		t.Fatal(err)
	}
	if got := llmgateway.Text(reply.GetMessage()); got != "hello from go" {
		t.Errorf("text = %q, want the input", got)
	}
	if reply.GetFinishReason() != llmgatewayv1.FinishReason_FINISH_REASON_STOP {
		t.Errorf("finish reason = %v, want STOP", reply.GetFinishReason())
	}
	if reply.GetProvider() != "echo" || reply.GetRequestId() == "" {
		t.Errorf("provider = %q, request id = %q; want echo and an id", reply.GetProvider(), reply.GetRequestId())
	}
	if reply.GetUsage().GetTotalTokens() != 6 {
		t.Errorf("usage = %v, want total 6", reply.GetUsage())
	}
}

// Scenario 2a.
func TestStreamReassembledEqualsUnary(t *testing.T) {
	c := gateway(t)
	in := input("echo", llmgateway.UserMessage("stream test"))
	in.Tools = []*llmgatewayv1.Tool{
		{Kind: &llmgatewayv1.Tool_Function{Function: &llmgatewayv1.FunctionTool{Name: "get_weather"}}},
		{Kind: &llmgatewayv1.Tool_Function{Function: &llmgatewayv1.FunctionTool{Name: "get_time"}}},
	}
	in.ToolChoice = &llmgatewayv1.ToolChoice{
		Choice: &llmgatewayv1.ToolChoice_Mode_{Mode: llmgatewayv1.ToolChoice_MODE_REQUIRED}}

	var events []*llmgatewayv1.StreamChatResponse
	for event, err := range c.Stream(t.Context(), in) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, event)
	}
	if len(events) < 2 || events[0].GetStart() == nil || events[len(events)-1].GetDone() == nil {
		t.Fatalf("events %v: want start first and done last", events)
	}
	dones := 0
	for _, e := range events {
		if e.GetDone() != nil {
			dones++
		}
	}
	if dones != 1 {
		t.Errorf("%d done events, want 1", dones)
	}

	var acc llmgateway.Accumulator
	for _, e := range events {
		acc.Add(e)
	}
	rebuilt := acc.Response()
	want := []toolCall{{"get_weather", `{"text":"stream test"}`}, {"get_time", `{"text":"stream test"}`}}
	if got := toolCalls(rebuilt.GetMessage()); !slices.Equal(got, want) {
		t.Errorf("tool calls = %v, want %v", got, want)
	}
	if rebuilt.GetFinishReason() != llmgatewayv1.FinishReason_FINISH_REASON_TOOL_CALLS {
		t.Errorf("finish reason = %v, want TOOL_CALLS", rebuilt.GetFinishReason())
	}

	unary, err := c.Chat(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*llmgatewayv1.ChatResponse{rebuilt, unary} {
		r.RequestId, r.UpstreamRequestId = "", ""
	}
	if !proto.Equal(rebuilt, unary) {
		t.Errorf("rebuilt response differs from Chat's:\nrebuilt: %v\nunary:   %v", rebuilt, unary)
	}
}

// Scenario 2b.
func TestStreamFromAnUpstream(t *testing.T) {
	c := gateway(t)
	rebuilt, err := llmgateway.Reassemble(c.Stream(t.Context(), input("smart", llmgateway.UserMessage("weather?"))))
	if err != nil {
		t.Fatal(err)
	}
	want := []toolCall{{"get_weather", `{"location": "Paris"}`}, {"get_time", `{}`}}
	if got := toolCalls(rebuilt.GetMessage()); !slices.Equal(got, want) {
		t.Errorf("tool calls = %v, want %v", got, want)
	}
	if rebuilt.GetFinishReason() != llmgatewayv1.FinishReason_FINISH_REASON_TOOL_CALLS {
		t.Errorf("finish reason = %v, want TOOL_CALLS", rebuilt.GetFinishReason())
	}
	if u := rebuilt.GetUsage(); u.GetInputTokens() != 9 || u.GetOutputTokens() != 12 {
		t.Errorf("usage = %v, want 9 in, 12 out", u)
	}
	if rebuilt.GetProvider() != "fake" {
		t.Errorf("provider = %q, want fake", rebuilt.GetProvider())
	}
}

// Scenario 3.
func TestEmbed(t *testing.T) {
	c := gateway(t)
	reply, err := c.Embed(t.Context(), llmgateway.EmbedTexts("echo/echo-embed", "a", "b", "a"))
	if err != nil {
		t.Fatal(err)
	}
	e := reply.GetEmbeddings()
	if len(e) != 3 {
		t.Fatalf("%d embeddings, want 3", len(e))
	}
	for i, v := range e {
		if len(v.GetValues()) != 16 {
			t.Errorf("embedding %d has %d values, want 16", i, len(v.GetValues()))
		}
	}
	if !slices.Equal(e[0].GetValues(), e[2].GetValues()) || slices.Equal(e[0].GetValues(), e[1].GetValues()) {
		t.Errorf("want the first vector equal to the third and different from the second: %v", e)
	}
}

// Scenario 4.
func TestListModelsAcrossPages(t *testing.T) {
	var pages atomic.Int32
	countPages := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if strings.HasSuffix(method, "/ListModels") {
			pages.Add(1)
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	c := gateway(t, llmgateway.WithDialOptions(grpc.WithChainUnaryInterceptor(countPages)))

	var names []string
	for model, err := range c.ListModels(t.Context(), &llmgatewayv1.ListModelsRequest{PageSize: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, model.GetName())
	}
	want := []string{"echo/echo", "echo/echo-embed", "fake/gpt-4.1-mini", "fake/text-embedding-3-small"}
	if !slices.Equal(names, want) {
		t.Errorf("models = %v, want %v", names, want)
	}
	if pages.Load() != 4 {
		t.Errorf("%d pages fetched, want 4", pages.Load())
	}

	model, err := c.GetModel(t.Context(), "fast")
	if err != nil {
		t.Fatal(err)
	}
	if model.GetName() != "echo/echo" || !slices.Contains(model.GetAliases(), "fast") {
		t.Errorf("GetModel(fast) = %v, want echo/echo with alias fast", model)
	}
}

// Scenario 5.
func TestHealth(t *testing.T) {
	c := gateway(t)
	for _, service := range []string{"", "readiness"} {
		status, err := c.Health(t.Context(), service)
		if err != nil {
			t.Fatalf("Health(%q): %v", service, err)
		}
		if status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Health(%q) = %v, want SERVING", service, status)
		}
	}
}

// Scenario 6.
func TestNotFoundWithDetails(t *testing.T) {
	c := gateway(t)
	_, err := c.Chat(t.Context(), input("no-such-model", llmgateway.UserMessage("hi")))
	e := gatewayError(t, err)
	if e.Code != codes.NotFound || e.Reason != "MODEL_NOT_FOUND" || e.Domain != "llmgateway" {
		t.Errorf("code, reason, domain = %v, %q, %q; want NotFound, MODEL_NOT_FOUND, llmgateway",
			e.Code, e.Reason, e.Domain)
	}
	if e.Metadata["model"] != "no-such-model" {
		t.Errorf("metadata = %v, want model=no-such-model", e.Metadata)
	}
	if e.RequestID == "" {
		t.Error("no request id")
	}
}

// Scenario 7.
func TestRetryDelay(t *testing.T) {
	c := gateway(t)
	in := input("echo", llmgateway.UserMessage("hi"))
	in.ProviderOptions = echoOptions(`{"fail": "rate_limited"}`)
	_, err := c.Chat(t.Context(), in)
	e := gatewayError(t, err)
	if e.Code != codes.ResourceExhausted || e.Reason != "UPSTREAM_RATE_LIMITED" {
		t.Errorf("code, reason = %v, %q; want ResourceExhausted, UPSTREAM_RATE_LIMITED", e.Code, e.Reason)
	}
	if e.RetryDelay != 2*time.Second {
		t.Errorf("retry delay = %v, want 2s", e.RetryDelay)
	}
}

// Scenario 8.
func TestDeadlineExceeded(t *testing.T) {
	c := gateway(t)
	in := input("echo", llmgateway.UserMessage("hi"))
	in.ProviderOptions = echoOptions(`{"delay_ms": 5000}`)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	started := time.Now()
	_, err := c.Chat(ctx, in)
	elapsed := time.Since(started)
	if e := gatewayError(t, err); e.Code != codes.DeadlineExceeded {
		t.Errorf("code = %v, want DeadlineExceeded", e.Code)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("errors.Is(err, context.DeadlineExceeded) is false")
	}
	if elapsed > 2*time.Second {
		t.Errorf("returned after %v, want well under 5s", elapsed)
	}
}

// Scenario 9.
func TestCancelMidStream(t *testing.T) {
	c := gateway(t)
	words := make([]string, 50)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", i)
	}
	in := input("echo", llmgateway.UserMessage(strings.Join(words, " ")))
	in.ProviderOptions = echoOptions(`{"chunk_delay_ms": 100}`)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	received := 0
	var cancelled time.Time
	var streamErr error
	for _, err := range c.Stream(ctx, in) {
		if err != nil {
			streamErr = err
			break
		}
		if received++; received == 3 {
			cancelled = time.Now()
			cancel()
		}
	}
	if elapsed := time.Since(cancelled); elapsed > 2*time.Second {
		t.Errorf("the stream stopped %v after the cancel, want under 2s", elapsed)
	}
	if received != 3 {
		t.Errorf("received %d events, want 3", received)
	}
	if e := gatewayError(t, streamErr); e.Code != codes.Canceled || !errors.Is(streamErr, context.Canceled) {
		t.Errorf("stream error = %v, want Canceled", streamErr)
	}

	reply, err := c.Chat(t.Context(), input("fast", llmgateway.UserMessage("still here")))
	if err != nil || llmgateway.Text(reply.GetMessage()) != "still here" {
		t.Errorf("Chat after the cancel: %v, %v", reply, err)
	}
}

// Scenario 10.
func TestInvalidRequest(t *testing.T) {
	c := gateway(t)
	_, err := c.Chat(t.Context(), input("echo"))
	e := gatewayError(t, err)
	if e.Code != codes.InvalidArgument {
		t.Errorf("code = %v, want InvalidArgument", e.Code)
	}
	var fields []string
	for _, v := range e.FieldViolations {
		fields = append(fields, v.GetField())
	}
	if !slices.Contains(fields, "input.messages") {
		t.Errorf("field violations = %v, want one for input.messages", fields)
	}
}

// Scenario 11.
func TestCountTokens(t *testing.T) {
	c := gateway(t)
	count, err := c.CountTokens(t.Context(), input("echo", llmgateway.UserMessage("count these four words")))
	if err != nil {
		t.Fatal(err)
	}
	if count.GetInputTokens() != 4 || count.GetMethod() != llmgatewayv1.CountTokensResponse_METHOD_BUILTIN {
		t.Errorf("input tokens, method = %d, %v; want 4, METHOD_BUILTIN", count.GetInputTokens(), count.GetMethod())
	}
	if count.GetProvider() != "echo" || count.GetModel() != "echo" {
		t.Errorf("provider, model = %q, %q; want echo, echo", count.GetProvider(), count.GetModel())
	}
}

type completionChoice struct {
	index  int32
	text   string
	finish llmgatewayv1.FinishReason
}

func completionChoices(r *llmgatewayv1.CompleteResponse) []completionChoice {
	var choices []completionChoice
	for _, c := range r.GetChoices() {
		choices = append(choices, completionChoice{c.GetIndex(), c.GetText(), c.GetFinishReason()})
	}
	return choices
}

// Scenario 12.
func TestTextCompletion(t *testing.T) {
	c := gateway(t)
	in := &llmgatewayv1.CompletionInput{
		Model:      "echo",
		Prompts:    []string{"one two", "three four five"},
		Echo:       true,
		Generation: &llmgatewayv1.GenerationConfig{MaxOutputTokens: proto.Int32(2)},
	}
	want := []completionChoice{
		{0, "one twoone two", llmgatewayv1.FinishReason_FINISH_REASON_STOP},
		{1, "three four fivethree four", llmgatewayv1.FinishReason_FINISH_REASON_LENGTH},
	}

	unary, err := c.Complete(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got := completionChoices(unary); !slices.Equal(got, want) {
		t.Errorf("choices = %v, want %v", got, want)
	}
	if u := unary.GetUsage(); u.GetInputTokens() != 5 || u.GetOutputTokens() != 4 {
		t.Errorf("usage = %v, want 5 in, 4 out", u)
	}
	if unary.GetProvider() != "echo" {
		t.Errorf("provider = %q, want echo", unary.GetProvider())
	}

	var events []*llmgatewayv1.StreamCompleteResponse
	for event, err := range c.StreamComplete(t.Context(), in) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, event)
	}
	if len(events) < 2 || events[0].GetStart() == nil || events[len(events)-1].GetDone() == nil {
		t.Fatalf("events %v: want start first and done last", events)
	}
	// The events themselves, per choice index.
	texts := map[int32]string{}
	finishes := map[int32]llmgatewayv1.FinishReason{}
	dones := 0
	for _, e := range events {
		if d := e.GetDelta(); d != nil {
			texts[d.GetIndex()] += d.GetText()
		}
		if d := e.GetChoiceDone(); d != nil {
			finishes[d.GetIndex()] = d.GetFinishReason()
		}
		if d := e.GetDone(); d != nil {
			dones++
			if !proto.Equal(d.GetUsage(), unary.GetUsage()) {
				t.Errorf("done usage = %v, want the unary usage %v", d.GetUsage(), unary.GetUsage())
			}
		}
	}
	if dones != 1 {
		t.Errorf("%d done events, want 1", dones)
	}
	for _, w := range want {
		if texts[w.index] != w.text || finishes[w.index] != w.finish {
			t.Errorf("choice %d streamed as %q, %v; want %q, %v",
				w.index, texts[w.index], finishes[w.index], w.text, w.finish)
		}
	}

	// The client's reassembly helper rebuilds what Complete returns.
	var acc llmgateway.CompletionAccumulator
	for _, e := range events {
		acc.Add(e)
	}
	rebuilt := acc.Response()
	for _, r := range []*llmgatewayv1.CompleteResponse{rebuilt, unary} {
		r.RequestId, r.UpstreamRequestId = "", ""
	}
	if !acc.Done() || !proto.Equal(rebuilt, unary) {
		t.Errorf("rebuilt response (done: %v) differs from Complete's:\nrebuilt: %v\nunary:   %v", acc.Done(), rebuilt, unary)
	}
}

// Scenario 13.
func TestBatch(t *testing.T) {
	c := gateway(t)
	items := []*llmgatewayv1.BatchChatItem{
		{Id: "a", Input: input("echo", llmgateway.UserMessage("alpha"))},
		{Id: "b", Input: input("no-such-model", llmgateway.UserMessage("beta"))},
		{Id: "c", Input: input("fast", llmgateway.UserMessage("gamma"))},
	}
	results := map[string]llmgateway.BatchResult{}
	for result, err := range c.BatchChat(t.Context(), items, 2) {
		if err != nil {
			t.Fatalf("the batch call failed: %v", err)
		}
		if _, seen := results[result.ID]; seen {
			t.Errorf("a second result for item %q", result.ID)
		}
		results[result.ID] = result
	}
	if len(results) != 3 {
		t.Fatalf("results for %v, want exactly a, b and c", slices.Sorted(maps.Keys(results)))
	}
	for id, text := range map[string]string{"a": "alpha", "c": "gamma"} {
		r := results[id]
		if r.Err != nil || llmgateway.Text(r.Response.GetMessage()) != text {
			t.Errorf("item %s = %v, %v; want the reply %q", id, r.Response, r.Err, text)
		}
	}
	b := results["b"]
	if b.Response != nil {
		t.Errorf("item b has a reply %v; want an error", b.Response)
	}
	e := gatewayError(t, b.Err)
	if e.Code != codes.NotFound || e.Reason != "MODEL_NOT_FOUND" || e.Metadata["model"] != "no-such-model" {
		t.Errorf("item b error: code, reason, metadata = %v, %q, %v; want NotFound, MODEL_NOT_FOUND, model=no-such-model",
			e.Code, e.Reason, e.Metadata)
	}
	if status.Code(b.Err) != codes.NotFound {
		t.Errorf("status.Code(item b error) = %v, want NotFound", status.Code(b.Err))
	}
	// The item's request id: the call's, then the item's index.
	if len(e.RequestID) <= 2 || !strings.HasSuffix(e.RequestID, ".1") {
		t.Errorf("item b request id = %q, want the call's followed by .1", e.RequestID)
	}
}

// Scenario 14.
func TestConnectionRotation(t *testing.T) {
	c := clientOf(t, "LLMGATEWAY_ROTATING_ADDRESS")
	words := make([]string, 50)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", i)
	}
	in := input("echo", llmgateway.UserMessage(strings.Join(words, " ")))
	in.ProviderOptions = echoOptions(`{"chunk_delay_ms": 10}`)
	for n := 1; n <= 2; n++ {
		// 40 events, 10 ms apart: past the GOAWAY; leaving the loop then
		// cancels the call, the connection's last.
		received := 0
		for _, err := range c.Stream(t.Context(), in) {
			if err != nil {
				t.Fatalf("rotation %d: stream: %v", n, err)
			}
			if received++; received == 40 {
				break
			}
		}
		if received != 40 {
			t.Errorf("rotation %d: received %d events, want 40", n, received)
		}
		text := fmt.Sprintf("after rotation %d", n)
		reply, err := c.Chat(t.Context(), input("echo", llmgateway.UserMessage(text)))
		if err != nil || llmgateway.Text(reply.GetMessage()) != text {
			t.Errorf("rotation %d: Chat: %v, %v", n, reply, err)
		}
	}
}

// Not a TESTING.md scenario: the caller's request id reaches the gateway and
// comes back, in replies and in errors.
func TestRequestIDPassThrough(t *testing.T) {
	c := gateway(t)
	reply, err := c.Chat(t.Context(), input("fast", llmgateway.UserMessage("hi")), llmgateway.WithRequestID("go-client-1"))
	if err != nil {
		t.Fatal(err)
	}
	if reply.GetRequestId() != "go-client-1" {
		t.Errorf("request id = %q, want go-client-1", reply.GetRequestId())
	}
	_, err = c.Chat(t.Context(), input("no-such-model", llmgateway.UserMessage("hi")), llmgateway.WithRequestID("go-client-2"))
	if e := gatewayError(t, err); e.RequestID != "go-client-2" {
		t.Errorf("error request id = %q, want go-client-2", e.RequestID)
	}
	request := llmgateway.EmbedTexts("echo/echo-embed", "a")
	embedded, err := c.Embed(t.Context(), request, llmgateway.WithRequestID("go-client-3"))
	if err != nil {
		t.Fatal(err)
	}
	if embedded.GetRequestId() != "go-client-3" || request.GetMetadata() != nil {
		t.Errorf("Embed request id = %q (want go-client-3); caller's metadata = %v (want untouched)",
			embedded.GetRequestId(), request.GetMetadata())
	}
}

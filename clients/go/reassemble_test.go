package llmgateway_test

import (
	"errors"
	"iter"
	"testing"

	llmgateway "github.com/llm-gateway/llm-gateway/clients/go"
	llmgatewayv1 "github.com/llm-gateway/llm-gateway/generated/go/llmgateway/v1"
	"google.golang.org/protobuf/proto"
)

// Offline tests of the reassembly rules (no gateway needed).

type ev = llmgatewayv1.StreamChatResponse

func usage(in, out int64) *llmgatewayv1.Usage {
	return &llmgatewayv1.Usage{InputTokens: in, OutputTokens: out, TotalTokens: in + out}
}

func TestAccumulatorRules(t *testing.T) {
	events := []*ev{
		{Event: &llmgatewayv1.StreamChatResponse_Start{Start: &llmgatewayv1.StreamStart{
			Id: "msg_1", Model: "m", Provider: "p", RequestId: "r", UpstreamRequestId: "u"}}},
		// Parts arrive out of index order and interleaved.
		{Event: &llmgatewayv1.StreamChatResponse_ToolCallStart{ToolCallStart: &llmgatewayv1.ToolCallStart{
			Index: 2, Id: "call_1", Name: "get_weather", ThoughtSignature: "sig"}}},
		{Event: &llmgatewayv1.StreamChatResponse_ReasoningDelta{ReasoningDelta: &llmgatewayv1.ReasoningDelta{
			Index: 0, Text: "think", Signature: "s1", Id: "rs_1", ProviderType: "anthropic"}}},
		{Event: &llmgatewayv1.StreamChatResponse_TextDelta{TextDelta: &llmgatewayv1.TextDelta{Index: 1, Text: "Hel"}}},
		{Event: &llmgatewayv1.StreamChatResponse_ToolCallDelta{ToolCallDelta: &llmgatewayv1.ToolCallDelta{
			Index: 2, ArgumentsFragment: `{"location":`}}},
		{Event: &llmgatewayv1.StreamChatResponse_ReasoningDelta{ReasoningDelta: &llmgatewayv1.ReasoningDelta{
			Index: 0, Text: "ing", Signature: "s2", RedactedData: []byte{1}}}},
		{Event: &llmgatewayv1.StreamChatResponse_TextDelta{TextDelta: &llmgatewayv1.TextDelta{Index: 1, Text: "lo"}}},
		{Event: &llmgatewayv1.StreamChatResponse_ToolCallDelta{ToolCallDelta: &llmgatewayv1.ToolCallDelta{
			Index: 2, ArgumentsFragment: ` "Paris"}`}}},
		{Event: &llmgatewayv1.StreamChatResponse_Usage{Usage: &llmgatewayv1.UsageUpdate{Usage: usage(1, 1)}}},
		{}, // an event kind this client does not know: ignored
		{Event: &llmgatewayv1.StreamChatResponse_Usage{Usage: &llmgatewayv1.UsageUpdate{Usage: usage(3, 5)}}},
		// The end event's call wins over the fragments.
		{Event: &llmgatewayv1.StreamChatResponse_ToolCallEnd{ToolCallEnd: &llmgatewayv1.ToolCallEnd{
			Index: 2, ToolCall: &llmgatewayv1.ToolCall{Id: "call_1", Name: "get_weather", ArgumentsJson: `{"location":"Paris"}`}}}},
		{Event: &llmgatewayv1.StreamChatResponse_Done{Done: &llmgatewayv1.StreamDone{
			FinishReason: llmgatewayv1.FinishReason_FINISH_REASON_TOOL_CALLS, ProviderFinishReason: "tool_use",
			StopSequence: "", Usage: usage(3, 7)}}},
	}
	want := &llmgatewayv1.ChatResponse{
		Id: "msg_1", Model: "m", Provider: "p", RequestId: "r", UpstreamRequestId: "u",
		Message: &llmgatewayv1.Message{Role: llmgatewayv1.Role_ROLE_ASSISTANT, Parts: []*llmgatewayv1.Part{
			{Kind: &llmgatewayv1.Part_Reasoning{Reasoning: &llmgatewayv1.Reasoning{
				Text: "thinking", Signature: "s1s2", RedactedData: []byte{1}, Id: "rs_1", ProviderType: "anthropic"}}},
			{Kind: &llmgatewayv1.Part_Text{Text: "Hello"}},
			{Kind: &llmgatewayv1.Part_ToolCall{ToolCall: &llmgatewayv1.ToolCall{
				Id: "call_1", Name: "get_weather", ArgumentsJson: `{"location":"Paris"}`}}, ThoughtSignature: "sig"},
		}},
		FinishReason:         llmgatewayv1.FinishReason_FINISH_REASON_TOOL_CALLS,
		ProviderFinishReason: "tool_use",
		Usage:                usage(3, 7),
	}

	var acc llmgateway.Accumulator
	for i, e := range events {
		if acc.Done() {
			t.Fatalf("Done() before the done event (event %d)", i)
		}
		acc.Add(e)
	}
	if !acc.Done() {
		t.Error("Done() is false after the done event")
	}
	if got := acc.Response(); !proto.Equal(got, want) {
		t.Errorf("rebuilt:\n%v\nwant:\n%v", got, want)
	}
}

func TestAccumulatorResponseIsACopy(t *testing.T) {
	var acc llmgateway.Accumulator
	if got := acc.Response(); got.GetMessage().GetRole() != llmgatewayv1.Role_ROLE_ASSISTANT {
		t.Errorf("zero Accumulator: %v", got)
	}
	acc.Add(&ev{Event: &llmgatewayv1.StreamChatResponse_TextDelta{TextDelta: &llmgatewayv1.TextDelta{Text: "a"}}})
	first := acc.Response()
	acc.Add(&ev{Event: &llmgatewayv1.StreamChatResponse_TextDelta{TextDelta: &llmgatewayv1.TextDelta{Text: "b"}}})
	if llmgateway.Text(first.GetMessage()) != "a" || llmgateway.Text(acc.Response().GetMessage()) != "ab" {
		t.Errorf("first = %v, now = %v", first, acc.Response())
	}
}

func TestReassembleReturnsTheStreamError(t *testing.T) {
	failure := errors.New("boom")
	events := iter.Seq2[*ev, error](func(yield func(*ev, error) bool) {
		if yield(&ev{Event: &llmgatewayv1.StreamChatResponse_TextDelta{TextDelta: &llmgatewayv1.TextDelta{Text: "partial"}}}, nil) {
			yield(nil, failure)
		}
	})
	reply, err := llmgateway.Reassemble(events)
	if !errors.Is(err, failure) || llmgateway.Text(reply.GetMessage()) != "partial" {
		t.Errorf("Reassemble = %v, %v; want the partial reply and the error", reply, err)
	}
}

type cev = llmgatewayv1.StreamCompleteResponse

func completionDelta(index int32, text string, logprobs ...*llmgatewayv1.TokenLogprob) *cev {
	return &cev{Event: &llmgatewayv1.StreamCompleteResponse_Delta{Delta: &llmgatewayv1.CompletionDelta{
		Index: index, Text: text, Logprobs: logprobs}}}
}

func choiceDone(index int32, finish llmgatewayv1.FinishReason, provider string) *cev {
	return &cev{Event: &llmgatewayv1.StreamCompleteResponse_ChoiceDone{ChoiceDone: &llmgatewayv1.CompletionChoiceDone{
		Index: index, FinishReason: finish, ProviderFinishReason: provider}}}
}

func TestCompletionAccumulatorRules(t *testing.T) {
	tok := func(token string, logprob float64, offset int32) *llmgatewayv1.TokenLogprob {
		return &llmgatewayv1.TokenLogprob{Token: token, Logprob: proto.Float64(logprob), TextOffset: offset,
			TopLogprobs: []*llmgatewayv1.TopLogprob{{Token: token, Logprob: logprob}}}
	}
	stop, length := llmgatewayv1.FinishReason_FINISH_REASON_STOP, llmgatewayv1.FinishReason_FINISH_REASON_LENGTH
	events := []*cev{
		{Event: &llmgatewayv1.StreamCompleteResponse_Start{Start: &llmgatewayv1.CompletionStart{
			Id: "cmpl_1", Model: "m", Provider: "p", RequestId: "r", UpstreamRequestId: "u"}}},
		// Choices arrive out of index order and interleaved.
		completionDelta(1, "Hel", tok("Hel", -0.5, 0)),
		completionDelta(0, "a"),
		completionDelta(1, "lo", tok("lo", -0.25, 3)),
		{}, // an event kind this client does not know: ignored
		choiceDone(1, length, "length"),
		completionDelta(0, "b"),
		choiceDone(0, stop, "stop"),
		{Event: &llmgatewayv1.StreamCompleteResponse_Done{Done: &llmgatewayv1.CompletionDone{Usage: usage(2, 3)}}},
	}
	want := &llmgatewayv1.CompleteResponse{
		Id: "cmpl_1", Model: "m", Provider: "p", RequestId: "r", UpstreamRequestId: "u",
		Choices: []*llmgatewayv1.CompletionChoice{
			{Index: 0, Text: "ab", FinishReason: stop, ProviderFinishReason: "stop"},
			{Index: 1, Text: "Hello", FinishReason: length, ProviderFinishReason: "length",
				Logprobs: []*llmgatewayv1.TokenLogprob{tok("Hel", -0.5, 0), tok("lo", -0.25, 3)}},
		},
		Usage: usage(2, 3),
	}

	var acc llmgateway.CompletionAccumulator
	for i, e := range events {
		if acc.Done() {
			t.Fatalf("Done() before the done event (event %d)", i)
		}
		acc.Add(e)
	}
	if !acc.Done() {
		t.Error("Done() is false after the done event")
	}
	got := acc.Response()
	if !proto.Equal(got, want) {
		t.Errorf("rebuilt:\n%v\nwant:\n%v", got, want)
	}
	// The response is a copy, and so is the accumulator's state.
	got.Choices[0].Text = "changed"
	events[1].GetDelta().GetLogprobs()[0].Token = "changed"
	if again := acc.Response(); !proto.Equal(again, want) {
		t.Errorf("the accumulator shares state with a response or an event:\n%v", again)
	}
}

func TestReassembleCompletionReturnsTheStreamError(t *testing.T) {
	failure := errors.New("boom")
	events := iter.Seq2[*cev, error](func(yield func(*cev, error) bool) {
		if yield(completionDelta(0, "partial"), nil) {
			yield(nil, failure)
		}
	})
	reply, err := llmgateway.ReassembleCompletion(events)
	if !errors.Is(err, failure) || len(reply.GetChoices()) != 1 || reply.GetChoices()[0].GetText() != "partial" {
		t.Errorf("ReassembleCompletion = %v, %v; want the partial reply and the error", reply, err)
	}
}

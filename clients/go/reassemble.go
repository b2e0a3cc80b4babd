package llmgateway

import (
	"iter"
	"maps"
	"slices"

	llmgatewayv1 "github.com/llm-gateway/llm-gateway/generated/go/llmgateway/v1"
	"google.golang.org/protobuf/proto"
)

// Reassemble consumes a stream (Client.Stream) and rebuilds the final
// ChatResponse: the one Chat would have returned for the same input. It
// returns the stream's error, if any, with the response rebuilt so far.
func Reassemble(events iter.Seq2[*llmgatewayv1.StreamChatResponse, error]) (*llmgatewayv1.ChatResponse, error) {
	var acc Accumulator
	for event, err := range events {
		if err != nil {
			return acc.Response(), err
		}
		acc.Add(event)
	}
	return acc.Response(), nil
}

// Accumulator rebuilds a ChatResponse from stream events added in order,
// for callers that handle each event as it arrives:
//
//	var acc llmgateway.Accumulator
//	for event, err := range c.Stream(ctx, in) {
//		if err != nil { ... }
//		acc.Add(event)
//		fmt.Print(event.GetTextDelta().GetText())
//	}
//	reply := acc.Response()
//
// The rules (StreamChatResponse in chat.proto): `start` sets the ids, model
// and provider; text, reasoning and tool-call deltas append to the part at
// their index; `tool_call_end` replaces that part's call with the complete
// one; `usage` replaces the usage; `done` sets the finish reason, provider
// finish reason, stop sequence and final usage. Unknown event kinds are
// ignored. The zero value is ready to use.
type Accumulator struct {
	response *llmgatewayv1.ChatResponse
	parts    map[int32]*llmgatewayv1.Part
	done     bool
}

// Add applies one event.
func (a *Accumulator) Add(event *llmgatewayv1.StreamChatResponse) {
	if a.response == nil {
		a.response = &llmgatewayv1.ChatResponse{}
		a.parts = map[int32]*llmgatewayv1.Part{}
	}
	r := a.response
	switch e := event.GetEvent().(type) {
	case *llmgatewayv1.StreamChatResponse_Start:
		s := e.Start
		r.Id, r.Model, r.Provider = s.GetId(), s.GetModel(), s.GetProvider()
		r.RequestId, r.UpstreamRequestId = s.GetRequestId(), s.GetUpstreamRequestId()
	case *llmgatewayv1.StreamChatResponse_TextDelta:
		d := e.TextDelta
		part := a.part(d.GetIndex())
		part.Kind = &llmgatewayv1.Part_Text{Text: part.GetText() + d.GetText()}
		part.ThoughtSignature += d.GetThoughtSignature()
	case *llmgatewayv1.StreamChatResponse_ReasoningDelta:
		d := e.ReasoningDelta
		part := a.part(d.GetIndex())
		reasoning := part.GetReasoning()
		if reasoning == nil {
			reasoning = &llmgatewayv1.Reasoning{}
			part.Kind = &llmgatewayv1.Part_Reasoning{Reasoning: reasoning}
		}
		reasoning.Text += d.GetText()
		reasoning.Signature += d.GetSignature()
		reasoning.RedactedData = append(reasoning.RedactedData, d.GetRedactedData()...)
		if d.GetId() != "" {
			reasoning.Id = d.GetId()
		}
		if d.GetProviderType() != "" {
			reasoning.ProviderType = d.GetProviderType()
		}
	case *llmgatewayv1.StreamChatResponse_ToolCallStart:
		d := e.ToolCallStart
		part := a.part(d.GetIndex())
		part.Kind = &llmgatewayv1.Part_ToolCall{ToolCall: &llmgatewayv1.ToolCall{Id: d.GetId(), Name: d.GetName()}}
		part.ThoughtSignature += d.GetThoughtSignature()
	case *llmgatewayv1.StreamChatResponse_ToolCallDelta:
		d := e.ToolCallDelta
		part := a.part(d.GetIndex())
		call := part.GetToolCall()
		if call == nil { // a delta without its start: build the call anyway
			call = &llmgatewayv1.ToolCall{}
			part.Kind = &llmgatewayv1.Part_ToolCall{ToolCall: call}
		}
		call.ArgumentsJson += d.GetArgumentsFragment()
	case *llmgatewayv1.StreamChatResponse_ToolCallEnd:
		d := e.ToolCallEnd
		a.part(d.GetIndex()).Kind = &llmgatewayv1.Part_ToolCall{ToolCall: proto.CloneOf(d.GetToolCall())}
	case *llmgatewayv1.StreamChatResponse_Usage:
		r.Usage = proto.CloneOf(e.Usage.GetUsage())
	case *llmgatewayv1.StreamChatResponse_Done:
		d := e.Done
		r.FinishReason, r.ProviderFinishReason = d.GetFinishReason(), d.GetProviderFinishReason()
		r.StopSequence = d.GetStopSequence()
		if d.GetUsage() != nil {
			r.Usage = proto.CloneOf(d.GetUsage())
		}
		a.done = true
	default:
		// An event kind from a newer contract (or none): ignored.
	}
}

// part is the part at index, created empty on first use.
func (a *Accumulator) part(index int32) *llmgatewayv1.Part {
	part, ok := a.parts[index]
	if !ok {
		part = &llmgatewayv1.Part{}
		a.parts[index] = part
	}
	return part
}

// Done reports whether the `done` event was added: the stream completed.
func (a *Accumulator) Done() bool { return a.done }

// Response is the response rebuilt so far: an assistant message with the
// parts ordered by index. It is a copy; adding more events does not change it.
func (a *Accumulator) Response() *llmgatewayv1.ChatResponse {
	out := &llmgatewayv1.ChatResponse{}
	if a.response != nil {
		out = proto.CloneOf(a.response)
	}
	message := &llmgatewayv1.Message{Role: llmgatewayv1.Role_ROLE_ASSISTANT}
	for _, index := range slices.Sorted(maps.Keys(a.parts)) {
		message.Parts = append(message.Parts, proto.CloneOf(a.parts[index]))
	}
	out.Message = message
	return out
}

// ReassembleCompletion consumes a completion stream (Client.StreamComplete)
// and rebuilds the CompleteResponse that Complete would have returned for
// the same input. It returns the stream's error, if any, with the response
// rebuilt so far.
func ReassembleCompletion(events iter.Seq2[*llmgatewayv1.StreamCompleteResponse, error]) (*llmgatewayv1.CompleteResponse, error) {
	var acc CompletionAccumulator
	for event, err := range events {
		if err != nil {
			return acc.Response(), err
		}
		acc.Add(event)
	}
	return acc.Response(), nil
}

// CompletionAccumulator rebuilds a CompleteResponse from completion stream
// events added in order, like Accumulator for chat streams. The rules
// (StreamCompleteResponse in completions.proto): `start` sets the ids, model
// and provider; `delta` appends its text and log probabilities to the choice
// at its index; `choice_done` sets that choice's finish reason and provider
// finish reason; `done` sets the usage. Choices are ordered by index.
// Unknown event kinds are ignored. The zero value is ready to use.
type CompletionAccumulator struct {
	response *llmgatewayv1.CompleteResponse
	choices  map[int32]*llmgatewayv1.CompletionChoice
	done     bool
}

// Add applies one event.
func (a *CompletionAccumulator) Add(event *llmgatewayv1.StreamCompleteResponse) {
	if a.response == nil {
		a.response = &llmgatewayv1.CompleteResponse{}
		a.choices = map[int32]*llmgatewayv1.CompletionChoice{}
	}
	r := a.response
	switch e := event.GetEvent().(type) {
	case *llmgatewayv1.StreamCompleteResponse_Start:
		s := e.Start
		r.Id, r.Model, r.Provider = s.GetId(), s.GetModel(), s.GetProvider()
		r.RequestId, r.UpstreamRequestId = s.GetRequestId(), s.GetUpstreamRequestId()
	case *llmgatewayv1.StreamCompleteResponse_Delta:
		d := e.Delta
		choice := a.choice(d.GetIndex())
		choice.Text += d.GetText()
		for _, logprob := range d.GetLogprobs() {
			choice.Logprobs = append(choice.Logprobs, proto.CloneOf(logprob))
		}
	case *llmgatewayv1.StreamCompleteResponse_ChoiceDone:
		d := e.ChoiceDone
		choice := a.choice(d.GetIndex())
		choice.FinishReason, choice.ProviderFinishReason = d.GetFinishReason(), d.GetProviderFinishReason()
	case *llmgatewayv1.StreamCompleteResponse_Done:
		r.Usage = proto.CloneOf(e.Done.GetUsage())
		a.done = true
	default:
		// An event kind from a newer contract (or none): ignored.
	}
}

// choice is the choice at index, created empty on first use.
func (a *CompletionAccumulator) choice(index int32) *llmgatewayv1.CompletionChoice {
	choice, ok := a.choices[index]
	if !ok {
		choice = &llmgatewayv1.CompletionChoice{Index: index}
		a.choices[index] = choice
	}
	return choice
}

// Done reports whether the `done` event was added: the stream completed.
func (a *CompletionAccumulator) Done() bool { return a.done }

// Response is the response rebuilt so far, choices ordered by index. It is a
// copy; adding more events does not change it.
func (a *CompletionAccumulator) Response() *llmgatewayv1.CompleteResponse {
	out := &llmgatewayv1.CompleteResponse{}
	if a.response != nil {
		out = proto.CloneOf(a.response)
	}
	for _, index := range slices.Sorted(maps.Keys(a.choices)) {
		out.Choices = append(out.Choices, proto.CloneOf(a.choices[index]))
	}
	return out
}

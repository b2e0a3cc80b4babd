package llmgateway

import (
	"strings"

	llmgatewayv1 "github.com/llm-gateway/llm-gateway/generated/go/llmgateway/v1"
)

// UserMessage is a user message with one text part per text.
func UserMessage(texts ...string) *llmgatewayv1.Message {
	m := &llmgatewayv1.Message{Role: llmgatewayv1.Role_ROLE_USER}
	for _, t := range texts {
		m.Parts = append(m.Parts, &llmgatewayv1.Part{Kind: &llmgatewayv1.Part_Text{Text: t}})
	}
	return m
}

// Text is the concatenated text parts of a message (reasoning and tool
// calls left out): the reply's text, for Text(reply.GetMessage()).
func Text(m *llmgatewayv1.Message) string {
	var b strings.Builder
	for _, p := range m.GetParts() {
		b.WriteString(p.GetText())
	}
	return b.String()
}

// EmbedTexts is an EmbedRequest for text inputs, for Client.Embed; set the
// other fields (Dimensions, TaskType, ...) on the result as needed.
func EmbedTexts(model string, texts ...string) *llmgatewayv1.EmbedRequest {
	r := &llmgatewayv1.EmbedRequest{Model: model}
	for _, t := range texts {
		r.Inputs = append(r.Inputs, &llmgatewayv1.EmbedInput{Content: &llmgatewayv1.EmbedInput_Text{Text: t}})
	}
	return r
}

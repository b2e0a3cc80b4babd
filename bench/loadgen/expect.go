package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// expected is what every reply must hold, read from the upstream's static
// replies (bench/upstream), so the checks follow the fixtures.
type expected struct {
	chatBody, embedBody, streamBody []byte // the upstream's exact bytes (direct path)

	chatText        string // the assistant's text
	chatFinish      string // OpenAI finish_reason ("stop")
	chatTotalTokens int64

	streamText        string // the concatenated content deltas
	streamChunks      int    // non-empty content deltas
	streamFinish      string
	streamTotalTokens int64

	vectors [][]float32 // embeddings, by index
}

type openAIChat struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
		Delta struct {
			Content *string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		TotalTokens int64 `json:"total_tokens"`
	} `json:"usage"`
}

func loadExpected(dir string) (*expected, error) {
	var x expected
	var err error
	read := func(name string) []byte {
		if err != nil {
			return nil
		}
		var b []byte
		b, err = os.ReadFile(filepath.Join(dir, name))
		return b
	}
	x.chatBody, x.embedBody, x.streamBody = read("chat.json"), read("embeddings.json"), read("stream.sse")
	if err != nil {
		return nil, err
	}

	var chat openAIChat
	if err := json.Unmarshal(x.chatBody, &chat); err != nil || len(chat.Choices) != 1 || chat.Usage == nil {
		return nil, fmt.Errorf("%s/chat.json: not a one-choice chat completion with usage", dir)
	}
	x.chatText = chat.Choices[0].Message.Content
	x.chatTotalTokens = chat.Usage.TotalTokens
	if f := chat.Choices[0].FinishReason; f != nil {
		x.chatFinish = *f
	}

	for _, event := range sseEvents(x.streamBody) {
		if event == "[DONE]" {
			continue
		}
		var chunk openAIChat
		if err := json.Unmarshal([]byte(event), &chunk); err != nil {
			return nil, fmt.Errorf("%s/stream.sse: %v", dir, err)
		}
		for _, c := range chunk.Choices {
			if c.Delta.Content != nil && *c.Delta.Content != "" {
				x.streamText += *c.Delta.Content
				x.streamChunks++
			}
			if c.FinishReason != nil {
				x.streamFinish = *c.FinishReason
			}
		}
		if chunk.Usage != nil {
			x.streamTotalTokens = chunk.Usage.TotalTokens
		}
	}
	if x.streamChunks == 0 || x.streamFinish == "" {
		return nil, fmt.Errorf("%s/stream.sse: no content or no finish reason", dir)
	}

	var embed struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(x.embedBody, &embed); err != nil || len(embed.Data) == 0 {
		return nil, fmt.Errorf("%s/embeddings.json: no embeddings", dir)
	}
	x.vectors = make([][]float32, len(embed.Data))
	for _, d := range embed.Data {
		v := make([]float32, len(d.Embedding))
		for i, f := range d.Embedding {
			v[i] = float32(f) // what the gateway's protobuf float holds
		}
		x.vectors[d.Index] = v
	}
	return &x, nil
}

// sseEvents is the data of each event of an SSE body.
func sseEvents(body []byte) []string {
	var events []string
	for _, block := range bytes.Split(body, []byte("\n\n")) {
		var data []string
		for _, line := range strings.Split(string(block), "\n") {
			if rest, ok := strings.CutPrefix(line, "data:"); ok {
				data = append(data, strings.TrimPrefix(rest, " "))
			}
		}
		if len(data) > 0 {
			events = append(events, strings.Join(data, "\n"))
		}
	}
	return events
}

// Command chat sends one chat request and one streamed request to a gateway
// (`make run` serves 127.0.0.1:50051) with the built-in echo model:
//
//	go run ./examples/chat
//	go run ./examples/chat -address 127.0.0.1:50051 -model echo "Hello there"
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	llmgateway "github.com/llm-gateway/llm-gateway/clients/go"
	llmgatewayv1 "github.com/llm-gateway/llm-gateway/generated/go/llmgateway/v1"
)

func main() {
	address := flag.String("address", "127.0.0.1:50051", "the gateway's host:port")
	model := flag.String("model", "echo", "a model name or alias")
	flag.Parse()
	text := "Hello from the Go client"
	if flag.NArg() > 0 {
		text = strings.Join(flag.Args(), " ")
	}
	if err := run(*address, *model, text); err != nil {
		// err is a *llmgateway.Error: code, reason, request id, retry delay.
		var gwErr *llmgateway.Error
		if errors.As(err, &gwErr) && gwErr.RetryDelay > 0 {
			log.Fatalf("%v; retry in %v", err, gwErr.RetryDelay)
		}
		log.Fatal(err)
	}
}

func run(address, model, text string) error {
	client, err := llmgateway.New(address, llmgateway.WithAPIKey(os.Getenv("LLMGATEWAY_API_KEY")),
		llmgateway.WithTimeout(30*time.Second))
	if err != nil {
		return err
	}
	defer client.Close()
	ctx := context.Background()
	input := &llmgatewayv1.ChatInput{Model: model, Messages: []*llmgatewayv1.Message{llmgateway.UserMessage(text)}}

	// One reply.
	reply, err := client.Chat(ctx, input)
	if err != nil {
		return err
	}
	fmt.Printf("chat:   %s\n        (%s via %s, %v, %d tokens, request %s)\n",
		llmgateway.Text(reply.GetMessage()), reply.GetModel(), reply.GetProvider(),
		reply.GetFinishReason(), reply.GetUsage().GetTotalTokens(), reply.GetRequestId())

	// The same, streamed: print the text as it arrives, and rebuild the reply.
	var acc llmgateway.Accumulator
	fmt.Print("stream: ")
	for event, err := range client.Stream(ctx, input) {
		if err != nil {
			return err
		}
		acc.Add(event)
		fmt.Print(event.GetTextDelta().GetText())
	}
	final := acc.Response()
	fmt.Printf("\n        (%v, %d tokens)\n", final.GetFinishReason(), final.GetUsage().GetTotalTokens())
	return nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	llmgateway "github.com/llm-gateway/llm-gateway/clients/go"
	llmgatewayv1 "github.com/llm-gateway/llm-gateway/generated/go/llmgateway/v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// runGRPC: calls through the gateway, every reply checked.
func runGRPC(args []string) error {
	fs := flag.NewFlagSet("grpc", flag.ExitOnError)
	addr := fs.String("addr", "", "gateway host:port")
	requests := fs.String("requests", "", "directory of grpc-{chat,stream,embed}.json")
	upstream := fs.String("upstream", "", "the upstream's static replies (bench/upstream)")
	mix := fs.String("mix", "chat=1", "kinds of call and their weights")
	concurrency := fs.Int("c", 1, "concurrent calls")
	conns := fs.Int("conns", 1, "gRPC connections (calls are spread over them)")
	duration := fs.Duration("duration", 5*time.Second, "how long to run (when -n is 0)")
	total := fs.Int("n", 0, "number of calls (overrides -duration)")
	timeout := fs.Duration("timeout", 30*time.Second, "deadline of each call")
	_ = fs.Parse(args)
	if *addr == "" || *requests == "" || *upstream == "" {
		return errors.New("grpc: -addr, -requests and -upstream are required")
	}
	want, err := loadExpected(*upstream)
	if err != nil {
		return err
	}
	kinds, err := parseMix(*mix)
	if err != nil {
		return err
	}
	clients, err := dialAll(*addr, *conns, *timeout)
	if err != nil {
		return err
	}
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()

	// Each kind over each connection in turn (calls take the next entry).
	var sequence []op
	for i := range len(kinds) * len(clients) {
		o, err := grpcOp(kinds[i%len(kinds)], clients[(i/len(kinds))%len(clients)], *requests, want)
		if err != nil {
			return err
		}
		sequence = append(sequence, o)
	}
	p := plan{concurrency: *concurrency, duration: *duration, total: *total, sequence: sequence}
	samples, elapsed := p.run(context.Background())
	return emit(newReport("gateway", *mix, *concurrency, len(clients), samples, elapsed))
}

// dialAll opens n connections and makes sure each is up (a health check)
// before any call is timed.
func dialAll(addr string, n int, timeout time.Duration) ([]*llmgateway.Client, error) {
	var clients []*llmgateway.Client
	for range max(n, 1) {
		c, err := llmgateway.New(addr, llmgateway.WithTimeout(timeout))
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = c.Health(ctx, "")
		cancel()
		if err != nil {
			return nil, fmt.Errorf("health check of %s: %w", addr, err)
		}
		clients = append(clients, c)
	}
	return clients, nil
}

func readProto(path string, m proto.Message) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := protojson.Unmarshal(b, m); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func grpcOp(kind string, c *llmgateway.Client, dir string, want *expected) (op, error) {
	file := filepath.Join(dir, "grpc-"+kind+".json")
	switch kind {
	case "chat":
		var req llmgatewayv1.ChatRequest
		if err := readProto(file, &req); err != nil {
			return op{}, err
		}
		return op{kind, func(ctx context.Context) sample { return chatCall(ctx, c, &req, want) }}, nil
	case "stream":
		var req llmgatewayv1.StreamChatRequest
		if err := readProto(file, &req); err != nil {
			return op{}, err
		}
		return op{kind, func(ctx context.Context) sample { return streamCall(ctx, c, &req, want) }}, nil
	case "embed":
		var req llmgatewayv1.EmbedRequest
		if err := readProto(file, &req); err != nil {
			return op{}, err
		}
		return op{kind, func(ctx context.Context) sample { return embedCall(ctx, c, &req, want) }}, nil
	}
	return op{}, fmt.Errorf("unknown kind %q (chat, stream, embed)", kind)
}

// failed classifies a call's error by its gRPC status code.
func failed(s sample, err error) sample {
	s.fail = status.Code(err).String()
	s.detail = err.Error()
	return s
}

func wrong(s sample, format string, args ...any) sample {
	s.fail = "bad_content"
	s.detail = fmt.Sprintf(format, args...)
	return s
}

func finishOK(got llmgatewayv1.FinishReason, provider, want string) bool {
	if provider != want {
		return false
	}
	return want != "stop" || got == llmgatewayv1.FinishReason_FINISH_REASON_STOP
}

func chatCall(ctx context.Context, c *llmgateway.Client, req *llmgatewayv1.ChatRequest,
	want *expected) sample {
	start := time.Now()
	reply, err := c.Chat(ctx, req.GetInput())
	s := sample{latency: time.Since(start)}
	if err != nil {
		return failed(s, err)
	}
	if got := llmgateway.Text(reply.GetMessage()); got != want.chatText {
		return wrong(s, "chat text %q", got)
	}
	if !finishOK(reply.GetFinishReason(), reply.GetProviderFinishReason(), want.chatFinish) {
		return wrong(s, "chat finish %v/%q", reply.GetFinishReason(), reply.GetProviderFinishReason())
	}
	if got := reply.GetUsage().GetTotalTokens(); got != want.chatTotalTokens {
		return wrong(s, "chat total tokens %d", got)
	}
	return s
}

func embedCall(ctx context.Context, c *llmgateway.Client, req *llmgatewayv1.EmbedRequest,
	want *expected) sample {
	start := time.Now()
	reply, err := c.Embed(ctx, req)
	s := sample{latency: time.Since(start)}
	if err != nil {
		return failed(s, err)
	}
	got := reply.GetEmbeddings()
	if len(got) != len(want.vectors) {
		return wrong(s, "%d embeddings", len(got))
	}
	for i, e := range got {
		if int(e.GetIndex()) != i {
			return wrong(s, "embedding %d has index %d", i, e.GetIndex())
		}
		v := e.GetValues()
		if len(v) != len(want.vectors[i]) {
			return wrong(s, "embedding %d has %d values", i, len(v))
		}
		for j := range v {
			if v[j] != want.vectors[i][j] {
				return wrong(s, "embedding %d value %d is %v", i, j, v[j])
			}
		}
	}
	return s
}

// streamCall times the first event, the first text and the end of one
// StreamChat, and checks the stream: start first, every text delta, one
// done last with the finish reason and usage.
func streamCall(ctx context.Context, c *llmgateway.Client, req *llmgatewayv1.StreamChatRequest,
	want *expected) sample {
	start := time.Now()
	var s sample
	var text strings.Builder
	var done *llmgatewayv1.StreamDone
	events, deltas := 0, 0
	var problem string
	for event, err := range c.Stream(ctx, req.GetInput()) {
		now := time.Since(start)
		if err != nil {
			s.latency = now
			return failed(s, err)
		}
		if events == 0 {
			s.firstEvent = now
			if event.GetStart() == nil {
				problem = "first event is not start"
			}
		}
		events++
		if done != nil && problem == "" {
			problem = "an event after done"
		}
		switch e := event.GetEvent().(type) {
		case *llmgatewayv1.StreamChatResponse_TextDelta:
			if s.firstText == 0 {
				s.firstText = now
			}
			text.WriteString(e.TextDelta.GetText())
			deltas++
		case *llmgatewayv1.StreamChatResponse_Done:
			done = e.Done
		}
	}
	s.latency = time.Since(start)
	switch {
	case problem != "":
		return wrong(s, "%s", problem)
	case done == nil:
		s.fail, s.detail = "incomplete_stream", fmt.Sprintf("no done after %d events", events)
		return s
	// The gateway sends deltas that are ready together as one (coalescing),
	// so the text must be exact but may come in fewer, larger deltas.
	case text.String() != want.streamText || deltas < 1 || deltas > want.streamChunks:
		return wrong(s, "stream text %q in %d deltas", text.String(), deltas)
	case !finishOK(done.GetFinishReason(), done.GetProviderFinishReason(), want.streamFinish):
		return wrong(s, "stream finish %v/%q", done.GetFinishReason(), done.GetProviderFinishReason())
	case done.GetUsage().GetTotalTokens() != want.streamTotalTokens:
		return wrong(s, "stream total tokens %d", done.GetUsage().GetTotalTokens())
	}
	return s
}

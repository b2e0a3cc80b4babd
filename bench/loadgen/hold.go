package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"os"
	"sync"
	"sync/atomic"
	"time"

	llmgatewayv1 "github.com/llm-gateway/llm-gateway/generated/go/llmgateway/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// holdReport is what `hold` prints: once when the streams are open (or the
// open timeout passed), once after they were cancelled.
type holdReport struct {
	Event         string         `json:"event"` // "open", then "closed"
	Streams       int            `json:"streams"`
	Open          int64          `json:"open"`           // got their first event, still running
	Failed        int64          `json:"failed"`         // ended with an error before the cancel
	FinishedEarly int64          `json:"finished_early"` // completed before the cancel
	Errors        map[string]int `json:"errors,omitempty"`
	ElapsedS      float64        `json:"elapsed_s"`
}

// runHold opens -n StreamChat calls on a slow upstream (a trickle of
// bytes), waits until each has its first event, reports, then holds them
// until a line (or EOF) on stdin, cancels them all and reports again.
func runHold(args []string) error {
	fs := flag.NewFlagSet("hold", flag.ExitOnError)
	addr := fs.String("addr", "", "gateway host:port")
	requestFile := fs.String("request", "", "the StreamChatRequest (protojson)")
	n := fs.Int("n", 1000, "streams to hold open")
	conns := fs.Int("conns", 10, "gRPC connections (streams are spread over them)")
	openTimeout := fs.Duration("open-timeout", 60*time.Second, "how long to wait for every first event")
	_ = fs.Parse(args)
	if *addr == "" || *requestFile == "" {
		return errors.New("hold: -addr and -request are required")
	}
	var req llmgatewayv1.StreamChatRequest
	if err := readProto(*requestFile, &req); err != nil {
		return err
	}
	clients, err := dialAll(*addr, *conns, 0)
	if err != nil {
		return err
	}
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()

	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var open, failed, early atomic.Int64
	var mu sync.Mutex
	errs := map[string]int{}
	var settled sync.WaitGroup // each stream: first event or end
	var ended sync.WaitGroup
	for i := range *n {
		settled.Add(1)
		ended.Add(1)
		go func() {
			defer ended.Done()
			first := true
			settle := func() {
				if first {
					first = false
					settled.Done()
				}
			}
			defer settle()
			for event, err := range clients[i%len(clients)].Stream(ctx, req.GetInput()) {
				if err != nil {
					if status.Code(err) == codes.Canceled && ctx.Err() != nil {
						return // our cancel: the expected end
					}
					if !first {
						open.Add(-1)
					}
					failed.Add(1)
					mu.Lock()
					errs[status.Code(err).String()]++
					mu.Unlock()
					return
				}
				if first {
					open.Add(1)
					settle()
				}
				if event.GetDone() != nil {
					open.Add(-1)
					early.Add(1)
				}
			}
		}()
	}

	waitTimeout(&settled, *openTimeout)
	report := func(event string) error {
		mu.Lock()
		defer mu.Unlock()
		return emit(holdReport{Event: event, Streams: *n, Open: open.Load(), Failed: failed.Load(),
			FinishedEarly: early.Load(), Errors: errs, ElapsedS: time.Since(start).Seconds()})
	}
	if err := report("open"); err != nil {
		return err
	}
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	openBefore := open.Load()
	cancel()
	waitTimeout(&ended, 30*time.Second)
	open.Store(openBefore) // what was open when we cancelled
	return report("closed")
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

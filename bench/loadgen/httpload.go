package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// runHTTP: calls straight to the upstream (the direct path), every reply
// checked against the static file the upstream serves.
func runHTTP(args []string) error {
	fs := flag.NewFlagSet("http", flag.ExitOnError)
	url := fs.String("url", "", "the upstream URL to POST to")
	bodyFile := fs.String("body", "", "the request body (JSON)")
	kind := fs.String("expect", "chat", "the reply: chat, embed or stream (SSE)")
	upstream := fs.String("upstream", "", "the upstream's static replies (bench/upstream)")
	concurrency := fs.Int("c", 1, "concurrent requests (one keep-alive connection each)")
	duration := fs.Duration("duration", 5*time.Second, "how long to run (when -n is 0)")
	total := fs.Int("n", 0, "number of requests (overrides -duration)")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout of each request")
	_ = fs.Parse(args)
	if *url == "" || *bodyFile == "" || *upstream == "" {
		return errors.New("http: -url, -body and -upstream are required")
	}
	want, err := loadExpected(*upstream)
	if err != nil {
		return err
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return err
	}
	wantBody := map[string][]byte{"chat": want.chatBody, "embed": want.embedBody,
		"stream": want.streamBody}[*kind]
	if wantBody == nil {
		return fmt.Errorf("unknown -expect %q (chat, embed, stream)", *kind)
	}
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{
		Proxy: nil, DisableCompression: true, ForceAttemptHTTP2: false,
		MaxIdleConns: *concurrency, MaxIdleConnsPerHost: *concurrency,
		MaxConnsPerHost: *concurrency, IdleConnTimeout: time.Minute,
	}}
	call := func(ctx context.Context) sample {
		return httpCall(ctx, client, *url, body, wantBody, *kind == "stream")
	}
	// Open the connections before timing (like wrk, which connects first).
	warm := plan{concurrency: *concurrency, total: *concurrency, sequence: []op{{*kind, call}}}
	warm.run(context.Background())
	p := plan{concurrency: *concurrency, duration: *duration, total: *total,
		sequence: []op{{*kind, call}}}
	samples, elapsed := p.run(context.Background())
	return emit(newReport("direct", *kind, *concurrency, 0, samples, elapsed))
}

// httpCall POSTs body and reads the reply as it arrives: for SSE it notes
// when the first event and the first content are complete. The reply must
// be the upstream's file, byte for byte (a stream: every event to [DONE]).
func httpCall(ctx context.Context, client *http.Client, url string, body, wantBody []byte,
	sse bool) sample {
	var s sample
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		s.fail, s.detail = "transport", err.Error()
		return s
	}
	req.Header.Set("Content-Type", "application/json")
	if sse {
		req.Header.Set("Accept", "text/event-stream")
	}
	resp, err := client.Do(req)
	if err != nil {
		s.latency = time.Since(start)
		s.fail, s.detail = "transport", err.Error()
		return s
	}
	defer resp.Body.Close()
	got := make([]byte, 0, len(wantBody))
	buf := make([]byte, 16<<10)
	scanned := 0 // bytes of `got` already split into events
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			got = append(got, buf[:n]...)
			if sse && s.firstText == 0 {
				scanned = noteEvents(&s, got, scanned, time.Since(start))
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			s.latency = time.Since(start)
			s.fail, s.detail = "transport", err.Error()
			return s
		}
	}
	s.latency = time.Since(start)
	if resp.StatusCode != http.StatusOK {
		s.fail, s.detail = fmt.Sprintf("http_%d", resp.StatusCode), string(got[:min(len(got), 200)])
		return s
	}
	if !bytes.Equal(got, wantBody) {
		if sse && !bytes.HasSuffix(bytes.TrimSpace(got), []byte("data: [DONE]")) {
			s.fail, s.detail = "incomplete_stream", fmt.Sprintf("%d bytes, no [DONE]", len(got))
			return s
		}
		return wrong(s, "%d bytes differing from the upstream's file", len(got))
	}
	return s
}

// noteEvents scans complete SSE events from got[from:], setting the time
// of the first event and of the first non-empty content delta; it returns
// how far it scanned.
func noteEvents(s *sample, got []byte, from int, now time.Duration) int {
	for {
		end := bytes.Index(got[from:], []byte("\n\n"))
		if end < 0 {
			return from
		}
		event := got[from : from+end]
		from += end + 2
		if s.firstEvent == 0 {
			s.firstEvent = now
		}
		data, ok := bytes.CutPrefix(event, []byte("data: "))
		if !ok || bytes.Equal(data, []byte("[DONE]")) {
			continue
		}
		var chunk openAIChat
		if json.Unmarshal(data, &chunk) != nil {
			continue // the byte-for-byte check reports it
		}
		for _, c := range chunk.Choices {
			if c.Delta.Content != nil && *c.Delta.Content != "" {
				s.firstText = now
				return from
			}
		}
	}
}

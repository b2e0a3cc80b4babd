package main

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestExpectedFromTheUpstreamFixtures(t *testing.T) {
	x, err := loadExpected("../upstream")
	if err != nil {
		t.Fatal(err)
	}
	if x.chatText == "" || x.chatFinish != "stop" || x.chatTotalTokens == 0 {
		t.Errorf("chat: %q %q %d", x.chatText, x.chatFinish, x.chatTotalTokens)
	}
	if x.streamChunks != 20 || x.streamFinish != "stop" || x.streamTotalTokens == 0 {
		t.Errorf("stream: %d chunks, finish %q, %d tokens", x.streamChunks, x.streamFinish,
			x.streamTotalTokens)
	}
	if len(x.vectors) != 16 || len(x.vectors[15]) != 64 {
		t.Errorf("embeddings: %d vectors", len(x.vectors))
	}
}

func TestParseMix(t *testing.T) {
	kinds, err := parseMix("chat=2, stream=1,embed")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"chat", "chat", "stream", "embed"}; !slices.Equal(kinds, want) {
		t.Errorf("got %v, want %v", kinds, want)
	}
	if _, err := parseMix("chat=x"); err == nil {
		t.Error("a bad weight was accepted")
	}
}

func TestDistIsNearestRank(t *testing.T) {
	var values []time.Duration
	for i := 1; i <= 100; i++ {
		values = append(values, time.Duration(i)*time.Millisecond)
	}
	d := distOf(values)
	if d.P50 != 50 || d.P99 != 99 || d.Max != 100 || d.Count != 100 {
		t.Errorf("got %+v", d)
	}
}

func TestPlanMakesExactlyTotalCalls(t *testing.T) {
	calls := 0
	o := op{"chat", func(context.Context) sample { calls++; return sample{latency: time.Millisecond} }}
	samples, _ := plan{concurrency: 1, total: 7, sequence: []op{o}}.run(context.Background())
	if len(samples) != 7 || calls != 7 {
		t.Errorf("%d samples, %d calls", len(samples), calls)
	}
	r := newReport("gateway", "chat=1", 1, 1, samples, time.Second)
	if r.OK != 7 || r.RPS != 7 || len(r.Errors) != 0 {
		t.Errorf("report %+v", r.summary)
	}
}

func TestNoteEventsTimesFirstEventAndFirstText(t *testing.T) {
	body := []byte("data: {\"choices\": [{\"delta\": {\"content\": \"\"}}]}\n\n" +
		"data: {\"choices\": [{\"delta\": {\"content\": \"Hi\"}}]}\n\n")
	var s sample
	scanned := noteEvents(&s, body[:40], 0, time.Millisecond) // no complete event yet
	if s.firstEvent != 0 || scanned != 0 {
		t.Fatalf("partial event counted: %+v", s)
	}
	noteEvents(&s, body, scanned, 2*time.Millisecond)
	if s.firstEvent != 2*time.Millisecond || s.firstText != 2*time.Millisecond {
		t.Errorf("got %+v", s)
	}
}

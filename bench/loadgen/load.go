package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sample is the outcome of one call.
type sample struct {
	kind       string
	latency    time.Duration // to the end of the reply (of the stream)
	firstEvent time.Duration // streams: to the first event; 0 otherwise
	firstText  time.Duration // streams: to the first text; 0 otherwise
	fail       string        // "" when the call succeeded and its reply was right
	detail     string        // what was wrong, for the report's examples
}

// op makes one call of one kind and checks its reply.
type op struct {
	kind string
	call func(ctx context.Context) sample
}

// plan is a closed-loop load: `concurrency` workers, each making one call
// after the other, for `duration` or until `total` calls were made. The
// calls follow `sequence` in turn (a weighted round robin of kinds).
type plan struct {
	concurrency int
	duration    time.Duration
	total       int
	sequence    []op
}

// run executes the plan. A call still in flight when the duration ends is
// waited for and counted (like ghz's --duration-stop=wait).
func (p plan) run(ctx context.Context) ([]sample, time.Duration) {
	var issued atomic.Int64
	per := make([][]sample, p.concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(p.duration)
	for w := range p.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := issued.Add(1) - 1
				if p.total > 0 && i >= int64(p.total) {
					return
				}
				if p.total == 0 && !time.Now().Before(deadline) {
					return
				}
				o := p.sequence[i%int64(len(p.sequence))]
				s := o.call(ctx)
				s.kind = o.kind
				per[w] = append(per[w], s)
			}
		}()
	}
	wg.Wait()
	return slices.Concat(per...), time.Since(start)
}

// parseMix reads "chat=8,stream=1,embed=1" into a sequence of kinds.
func parseMix(mix string) ([]string, error) {
	var kinds []string
	for _, item := range strings.Split(mix, ",") {
		name, weight, found := strings.Cut(strings.TrimSpace(item), "=")
		n := 1
		if found {
			var err error
			if n, err = strconv.Atoi(weight); err != nil || n < 0 {
				return nil, fmt.Errorf("bad weight in -mix %q", item)
			}
		}
		for range n {
			kinds = append(kinds, name)
		}
	}
	if len(kinds) == 0 {
		return nil, fmt.Errorf("empty -mix")
	}
	return kinds, nil
}

// dist is a latency distribution in milliseconds (nearest-rank percentiles
// over every successful call: no sampling, no histogram buckets).
type dist struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

func distOf(values []time.Duration) *dist {
	if len(values) == 0 {
		return nil
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	var sum time.Duration
	for _, v := range sorted {
		sum += v
	}
	rank := func(p float64) float64 {
		i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
		return ms(sorted[max(i, 0)])
	}
	return &dist{
		Count: len(sorted), Mean: ms(sum / time.Duration(len(sorted))),
		P50: rank(50), P90: rank(90), P99: rank(99), Max: ms(sorted[len(sorted)-1]),
	}
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// summary is the report of a set of calls.
type summary struct {
	Requests      int            `json:"requests"`
	OK            int            `json:"ok"`
	Errors        map[string]int `json:"errors"`
	ErrorExamples []string       `json:"error_examples,omitempty"`
	ElapsedS      float64        `json:"elapsed_s"`
	RPS           float64        `json:"rps"`
	LatencyMs     *dist          `json:"latency_ms"`
	FirstEventMs  *dist          `json:"first_event_ms,omitempty"`
	FirstTextMs   *dist          `json:"first_text_ms,omitempty"`
}

func summarize(samples []sample, elapsed time.Duration) summary {
	s := summary{Requests: len(samples), Errors: map[string]int{}, ElapsedS: elapsed.Seconds()}
	var lat, first, text []time.Duration
	examples := map[string]bool{}
	for _, x := range samples {
		if x.fail != "" {
			s.Errors[x.fail]++
			example := x.fail + ": " + x.detail
			if len(s.ErrorExamples) < 5 && !examples[example] {
				examples[example] = true
				s.ErrorExamples = append(s.ErrorExamples, example)
			}
			continue
		}
		s.OK++
		lat = append(lat, x.latency)
		if x.firstEvent > 0 {
			first = append(first, x.firstEvent)
		}
		if x.firstText > 0 {
			text = append(text, x.firstText)
		}
	}
	if elapsed > 0 {
		s.RPS = math.Round(float64(len(samples))/elapsed.Seconds()*10) / 10
	}
	s.LatencyMs, s.FirstEventMs, s.FirstTextMs = distOf(lat), distOf(first), distOf(text)
	return s
}

// report is what `grpc` and `http` print.
type report struct {
	Tool        string `json:"tool"`
	Target      string `json:"target"`
	Concurrency int    `json:"concurrency"`
	Connections int    `json:"connections,omitempty"`
	Mix         string `json:"mix"`
	summary
	ByKind map[string]summary `json:"by_kind,omitempty"`
}

func newReport(target, mix string, concurrency, connections int, samples []sample,
	elapsed time.Duration) report {
	r := report{Tool: "loadgen", Target: target, Mix: mix, Concurrency: concurrency,
		Connections: connections, summary: summarize(samples, elapsed)}
	byKind := map[string][]sample{}
	for _, x := range samples {
		byKind[x.kind] = append(byKind[x.kind], x)
	}
	if len(byKind) > 1 {
		r.ByKind = map[string]summary{}
		kinds := make([]string, 0, len(byKind))
		for k := range byKind {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			r.ByKind[k] = summarize(byKind[k], elapsed)
		}
	}
	return r
}

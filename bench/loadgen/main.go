// Command loadgen is the benchmark's own load generator (bench/run.py runs
// it), for what ghz and wrk cannot do:
//
//   - check every reply's content, not only its status;
//   - time a stream's first event and first text as well as its end, over
//     gRPC (StreamChat) and over HTTP (the upstream's SSE, direct);
//   - hold many streams open at once (the gateway's memory with 1,000 open
//     streams);
//   - drive a fixed mix of calls for the leak check.
//
// Subcommands (each prints one JSON report on stdout; failed calls are
// counted in the report, never fatal):
//
//	loadgen grpc -addr HOST:PORT -requests DIR -upstream DIR -mix chat=8,stream=1,embed=1 -c 16 (-duration 5s | -n 200000)
//	loadgen http -url URL -body FILE -expect chat|embed|stream -upstream DIR -c 16 (-duration 5s | -n 1000)
//	loadgen hold -addr HOST:PORT -request FILE -n 1000 -conns 10
//
// -requests holds grpc-chat.json, grpc-stream.json and grpc-embed.json
// (protojson, the same files ghz sends); -upstream is bench/upstream, whose
// static replies define the expected content.
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "grpc":
		err = runGRPC(os.Args[2:])
	case "http":
		err = runHTTP(os.Args[2:])
	case "hold":
		err = runHold(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: loadgen grpc|http|hold [flags] (see -h of each)")
	os.Exit(2)
}

// emit writes one JSON document (a line) on stdout.
func emit(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(os.Stdout, "%s\n", line)
	return err
}

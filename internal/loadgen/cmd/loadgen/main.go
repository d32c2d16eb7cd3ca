// Command loadgen loads the broker's ingress with one CloudEvent per
// request from one thread (eddy/internal/loadgen): at a fixed rate with
// -rate (an open loop, latency counted from when each request fell due),
// else as a closed loop of -conns connections.
//
//	go run ./internal/loadgen/cmd/loadgen -addr 127.0.0.1:8080 -rate 30000 -d 60s
//
// It prints one line of figures, and exits 1 if any answer was not a 202
// or a connection broke. At a rate it also says whether the node kept up:
// whether the answers came at 99% of the rate or more, from the first
// request's due time to the last answer, and exits 3 when they did not.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"eddy/internal/loadgen"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "the node's HTTP address, host:port (IPv4)")
	mode := flag.String("mode", "binary", "binary or structured CloudEvents")
	conns := flag.Int("conns", 0, "keep-alive connections (default: 256 closed, 1024 at a rate)")
	rate := flag.Float64("rate", 0, "events per second, an open loop; 0 for a closed loop")
	dur := flag.Duration("d", 10*time.Second, "how long requests fall due, at a rate")
	total := flag.Int64("n", 100000, "requests of a closed loop")
	depth := flag.Int("depth", 1, "requests in flight on each connection of a closed loop")
	timeline := flag.Duration("timeline", 0, "at a rate: also print, for each slice of this length, the answers and their worst latency")
	flag.Parse()
	encode, err := loadgen.IngressRequests(*mode)
	if err != nil {
		fail(err)
	}
	l := &loadgen.Load{Addr: *addr, Conns: *conns, Depth: *depth, Encode: encode}
	if *rate > 0 {
		if l.Conns == 0 {
			l.Conns = 1024
		}
		res, err := l.RunAtRate(*rate, *dur, time.Minute)
		if err != nil {
			fail(err)
		}
		if *timeline > 0 {
			printTimeline(res, *timeline)
		}
		lat := slices.Clone(res.Latencies)
		slices.Sort(lat)
		q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		answered := float64(res.Answered) / res.Elapsed.Seconds()
		verdict := "kept up"
		if answered < 0.99**rate {
			verdict = "fell behind"
		}
		fmt.Printf("%s rate %.0f/s: %s, %.0f events/s answered over %.1f s, latency ms p50 %.2f p99 %.2f p99.9 %.2f max %.2f, late %d of %d, client %.1f µs/request\n",
			*mode, *rate, verdict, answered, res.Elapsed.Seconds(),
			q(0.5), q(0.99), q(0.999), q(1), res.Late, res.Answered,
			float64(res.ClientCPU.Nanoseconds())/1e3/float64(res.Answered))
		if verdict != "kept up" {
			os.Exit(3)
		}
		return
	}
	if l.Conns == 0 {
		l.Conns = 256
	}
	res, err := l.Run(*total, 10*time.Minute)
	if err != nil {
		fail(err)
	}
	fmt.Printf("%s closed loop, %d connections × %d: %.0f events/s over %.1f s, client %.1f µs/request\n",
		*mode, l.Conns, max(l.Depth, 1), float64(res.Answered)/res.Elapsed.Seconds(), res.Elapsed.Seconds(),
		float64(res.ClientCPU.Nanoseconds())/1e3/float64(res.Answered))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}

// printTimeline prints, for each slice of the run, how many answers came
// in it and the worst latency among them.
func printTimeline(res loadgen.Result, slice time.Duration) {
	var n int
	var worst time.Duration
	at := slice
	emit := func() {
		fmt.Printf("%8.1f s %6d answers, worst %7.2f ms\n", at.Seconds(), n, float64(worst.Microseconds())/1000)
		n, worst, at = 0, 0, at+slice
	}
	for i, t := range res.AnsweredAt {
		for t >= at {
			emit()
		}
		n++
		worst = max(worst, res.Latencies[i])
	}
	if n > 0 {
		emit()
	}
}

// Command tickets runs the tickets example: a concert's tickets sold to a
// rush of customers by three services (queue, tickets, payments) and a web
// front end that exchange CloudEvents through Eddy's broker, while a BPMN
// model first observes the purchase (v1), adds reminders and a timeout
// (v2), orchestrates it (v3), and sends large orders another way (v4).
//
//	go run ./examples/tickets [--model v1|v2|v3|v4] [--addr 127.0.0.1:8090]
//
// Everything runs in this process on one port: an embedded Eddy (engine on
// pebble, broker, REST API), the services and the page. See README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"syscall"
	"time"

	"eddy/examples/tickets/internal/tickets"
	"eddy/storage"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:8090", "address to serve everything on (host:port)")
	flag.StringVar(&cfg.Dir, "data", "", "directory of Eddy's data (default: a temporary directory, removed on exit)")
	flag.StringVar(&cfg.Model, "model", "v4", "model version to deploy: v1 (visibility), v2 (timers), v3 (orchestration) or v4 (gateway)")
	flag.IntVar(&cfg.Stock, "stock", 200, "tickets on sale")
	flag.Float64Var(&cfg.QueueRate, "queue-rate", 0.5, "customers let out of the queue per second (0: no limit)")
	flag.DurationVar(&cfg.PaymentDelay, "payment-delay", 2*time.Second, "how long the payments service takes to authorize")
	flag.DurationVar(&cfg.Hold, "hold", 3*time.Minute, "how long the tickets service holds a reservation nobody pays")
	flag.IntVar(&cfg.Partitions, "partitions", 2, "partitions of a new store")
	level := flag.String("log-level", "info", "log level: debug, info, warn or error")
	flag.Parse()
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "invalid --log-level %q: use debug, info, warn or error\n", *level)
		os.Exit(2)
	}
	if err := checkFlags(cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "tickets:", err)
		os.Exit(1)
	}
}

// checkFlags refuses a flag value the example cannot run with, naming the
// flag. A --partitions 0 is refused rather than passed on: the node reads
// 0 as "the default", so a store of 2 partitions would be made instead of
// the count given.
//
// Refused too are values that mean nothing: a negative stock, queue rate or
// payment delay, and a hold that is not above 0 (the tickets service reads
// 0 as its default, 3 minutes, as it would a negative hold).
func checkFlags(cfg config) error {
	switch {
	case cfg.Partitions < 1 || cfg.Partitions > storage.MaxPartitions:
		return fmt.Errorf("invalid --partitions %d: use 1 to %d", cfg.Partitions, storage.MaxPartitions)
	case cfg.Stock < 0:
		return fmt.Errorf("invalid --stock %d: use 0 or more tickets", cfg.Stock)
	case !(cfg.QueueRate >= 0) || math.IsInf(cfg.QueueRate, 1):
		return fmt.Errorf("invalid --queue-rate %v: use 0 (no limit) or more customers per second", cfg.QueueRate)
	case cfg.PaymentDelay < 0:
		return fmt.Errorf("invalid --payment-delay %v: use 0 or more", cfg.PaymentDelay)
	case cfg.Hold <= 0:
		return fmt.Errorf("invalid --hold %v: use a duration above 0, such as 3m", cfg.Hold)
	}
	return nil
}

func run(cfg config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("Tickets example, model %s, %s on sale: open %s/\n", cfg.Model, tickets.Count(cfg.Stock), a.URL)
	<-ctx.Done()
	fmt.Println("stopping")
	a.close()
	return nil
}

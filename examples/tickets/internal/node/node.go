// Package node runs an embedded Eddy for the tickets example: the pebble
// store, the engine on every partition, the CloudEvents broker (ingress,
// triggers, the cloudevents job worker, live push) and the REST API, all
// in this process, as `eddy dev` runs them.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"eddy/api/rest"
	"eddy/broker"
	"eddy/engine"
	"eddy/storage"
	_ "eddy/storage/pebble" // the embedded backend
)

// Config sets up a node.
type Config struct {
	// Dir keeps the data; "" uses a temporary directory that Close
	// removes.
	Dir string
	// Partitions of a new store (default 2, so that correlation crosses
	// partitions as it does in a real deployment).
	Partitions int
	Logger     *slog.Logger
	// Broker options beyond the node's own.
	Broker []broker.Opt
}

// Node is a running embedded Eddy.
type Node struct {
	Store  *storage.Store
	Engine *engine.Engine
	Broker *broker.Broker
	REST   *rest.Server
	tmp    string
}

// Start opens the store, claims every partition (an embedded store has one
// process), and starts the engine and the broker.
func Start(ctx context.Context, cfg Config) (n *Node, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = 2
	}
	n = &Node{}
	started := n // a failed start returns nil: what it opened is closed here
	defer func() {
		if err != nil {
			started.Close()
		}
	}()
	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "eddy-tickets-"); err != nil {
			return nil, err
		}
		n.tmp = dir
	}
	n.Store, err = storage.Open(ctx, "pebble", dir, storage.WithPartitions(cfg.Partitions), storage.WithLogger(cfg.Logger))
	if err != nil {
		return nil, fmt.Errorf("opening the store in %s: %w", dir, err)
	}
	epochs := map[int]uint64{}
	for p := range n.Store.Partitions() {
		// Any claim in an embedded store was left by a process that is
		// gone: only one process can open it.
		c, err := n.Store.Ownership().ClaimPartition(ctx, p, "tickets-example", time.Nanosecond)
		if err != nil {
			return nil, fmt.Errorf("claiming partition %d: %w", p, err)
		}
		epochs[p] = c.Epoch
	}
	if n.Engine, err = engine.Start(ctx, n.Store, engine.Options{Epochs: epochs, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("starting the engine: %w", err)
	}
	opts := append([]broker.Opt{broker.WithLogger(cfg.Logger), broker.WithNodeID("tickets-example")}, cfg.Broker...)
	if n.Broker, err = broker.New(n.Engine, n.Store, opts...); err != nil {
		return nil, err
	}
	// The broker runs until Close, not until the end of the start-up's
	// context.
	if err = n.Broker.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	n.REST = rest.New(n.Engine, rest.WithLogger(cfg.Logger))
	return n, nil
}

// Handler serves Eddy's HTTP API: the broker's routes (/v1/events,
// /v1/events/stream, /v1/events/ws, /v1/triggers and Knative's broker
// ingress path /default/default) and the REST API for the rest of /v1/.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, p := range []string{"/v1/events", "/v1/events/", "/v1/triggers", "/v1/triggers/", "/default/default"} {
		mux.Handle(p, n.Broker)
	}
	mux.Handle("/v1/", n.REST)
	return mux
}

// Close stops the broker, the engine and the store, and removes a
// temporary directory.
func (n *Node) Close() error {
	var errs []error
	if n.Broker != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		errs = append(errs, n.Broker.Close(ctx))
		cancel()
	}
	if n.Engine != nil {
		n.Engine.Close()
	}
	if n.Store != nil {
		errs = append(errs, n.Store.Close())
	}
	if n.tmp != "" {
		errs = append(errs, os.RemoveAll(n.tmp))
	}
	return errors.Join(errs...)
}

package loadgen

import (
	"errors"
	"time"
)

// ErrUnsupported is what a run returns where epoll is missing.
var ErrUnsupported = errors.New("loadgen: the load generator runs on Linux only")

// Load is a load on one server.
type Load struct {
	Addr  string // host:port, IPv4
	Conns int
	// Depth is how many requests Run keeps in flight on each connection:
	// 1 is plain keep-alive, as most clients; more pipelines. RunAtRate
	// keeps one.
	Depth int
	// Encode appends the request that carries event number seq, from 1.
	Encode func(dst []byte, seq int64) []byte
	// Ready, when set, is called once every connection is up, before the
	// first request.
	Ready func()
}

// Result is what a run did.
type Result struct {
	Answered  int64
	Elapsed   time.Duration // from the first request to the last answer
	ClientCPU time.Duration // the client thread's user and system time
	// Latencies, of RunAtRate only: each answer's time from when its
	// request fell due, in the order the answers came.
	Latencies []time.Duration
	// AnsweredAt, of RunAtRate only: when each answer came, from the
	// first request's due time.
	AnsweredAt []time.Duration
	// Late, of RunAtRate only: the requests that were sent more than a
	// millisecond after they fell due, for want of a free connection or
	// of a CPU for the client's thread.
	Late int64
}

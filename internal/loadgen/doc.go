// Package loadgen loads an HTTP/1.1 endpoint with pre-encoded POSTs from
// one OS thread driving every connection through epoll, so that it leaves
// the server under test as much of a small machine as it can. It reads of
// each answer only the status line and Content-Length.
//
// Two shapes of load:
//   - Run, a closed loop: each connection has depth requests in flight and
//     sends the next when an answer arrives, as wrk does. What it measures
//     depends on the connections: too few leave the server idle between
//     their bursts.
//   - RunAtRate, an open loop: requests fall due at a fixed rate whatever
//     the answers do, and each is sent on a free connection when due, as
//     vegeta, wrk2 and Knative's broker benchmarks load a server. Latency
//     counts from when a request fell due, so a server that falls behind
//     shows as latency that grows, not as a slower client.
//
// The load generator runs on Linux only; elsewhere its runs return
// ErrUnsupported.
package loadgen

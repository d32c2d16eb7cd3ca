// Package engine runs BPMN processes: a deterministic state machine per
// partition (Core) that turns commands, its state and the current time into
// records, and the driver around it (Partition, Engine) that feeds it
// commands and ticks of the clock, commits what it produced to storage in
// one atomic batch, and only then answers the callers.
//
// The core does no IO, reads no clock and starts no goroutine, in the style
// of etcd's raft: what must be persisted comes out of Ready, and the driver
// calls Advance once it is durable.
package engine

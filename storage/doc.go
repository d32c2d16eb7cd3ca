// Package storage is Eddy's durable storage: a partitioned, append-only log,
// transactional key-value state beside each partition, a token store for
// streaming processors and partition ownership for several nodes.
//
// The front type, Store, keeps the invariants every backend shares: it
// validates batches, groups concurrent commits so that they share one
// durable write (group commit), tails the log without polling and finds
// positions by time. Backends implement the small Backend interface and
// register themselves by name; storage/pebble (embedded, the default) and
// storage/postgres are the two. storage/storagetest is the conformance suite
// both must pass.
//
// Positions start at 1 and are gapless per partition; 0 means "before the
// first entry". Every entry carries its append time in Unix milliseconds,
// non-decreasing per partition, so that SeekTime can find a position by time.
package storage

// Package deadletter is a sequenced dead-letter queue for streaming
// processors, kept in Eddy's own storage.
//
// When a handler fails on an event, the processor puts the event in the queue
// as a Letter, under the event's sequence id (what the processor's sequencing
// policy returns). From then on, later events of that sequence are parked
// behind it (EnqueueIfPresent) while other sequences flow on, so a sequence's
// events are never handled out of order. A sequence holds an event read
// from a position once: the same event enqueued again (a processor reset
// reads it anew) is already there. Process retries the sequence whose
// head was touched longest ago (Axon's processAny); a Policy decides what a
// failure means: ignore it, enqueue the event, evict the letter, or requeue it
// at the head of its sequence.
//
// # Storage layout
//
// The queue lives in the state of one partition of the store (chosen by a
// hash of the processor's name unless WithPartition says otherwise), under
// keys that start with "dlq/" and the length-prefixed processor name:
//
//	s <sequence>          the sequence: size, head, next order, processing lease
//	q <sequence> <order>  a letter; order is a big-endian counter of the sequence
//	i <letter id>         where letter id lives (sequence and order)
//	p <sequence> <source> <partition> <position>
//	                      the order of the letter holding the event read there
//
// Sequence ids are length-prefixed too, so a scan of one sequence's letters
// returns them in order and never strays into another sequence.
//
// # Concurrency
//
// Every change to a sequence is a read-modify-write of its row, made under a
// lock on the sequence's bucket (one of 64, by hash) and committed in one
// atomic batch. Inside a process the lock is a mutex. When several nodes share
// the store (PostgreSQL), the lock is also a claim on a segment of the token
// store (processor name "deadletter:" + processor), and the batch carries a
// token write under that claim, so a node whose lock timed out and was taken
// cannot commit. Batches are fenced by the partition's ownership epoch like
// every state write; when the partition changes owner the queue re-reads the
// epoch and commits again (a refused batch wrote nothing).
//
// Processing a sequence holds no lock while the handler runs: a lease in the
// sequence's row (WithClaimDuration), renewed while the handler runs, keeps
// other Process calls, here and on other nodes, away from it, while new
// letters can still be parked behind it.
//
// Contains is on the processor's hot path and does no IO: it answers from a
// set of sequence ids kept on this node, updated by this node's changes.
// Sequences enqueued by another node become visible here on Refresh; a
// processor calls Refresh after it claims a segment (the only way another
// node's sequence becomes this node's concern). A stale "present" is
// harmless: EnqueueIfPresent checks storage before parking.
package deadletter

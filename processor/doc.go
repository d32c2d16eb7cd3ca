// Package processor runs streaming event processors over Eddy's log and
// other sources, in the manner of Axon's streaming event processors, with Go
// idioms: options as Opt values, context cancellation, small interfaces.
//
// A Processor reads a Source (the Eddy log through NewLogSource, a
// MemorySource in tests, several sources merged by NewMultiSource) and hands
// events to a Handler. Its progress is a Token per segment, kept in the
// store's token store. A token is a vector of positions, one per partition
// (and per stream, for a multi-source), so partitions move independently.
//
// # Segments and sequencing
//
// The event stream is cut into segments by mask, as in Axon: an event whose
// sequence hash h satisfies h&mask == id belongs to segment id. The
// SequencingPolicy gives each event its sequence id (its key by default);
// events with one id land in one segment and are handled in order. Segments
// split and merge while the processor runs (SplitSegment, MergeSegment); a
// merge of segments that stood at different positions advances both halves
// until they meet, handling each event only for the half that had not seen
// it.
//
// # Modes
//
// Pooled (the default, 16 segments) reads one stream and feeds a work
// package per claimed segment; the whole processor moves at the pace of its
// slowest segment. Tracking (1 segment) opens a stream per claimed segment,
// at most WithThreads of them per node, each at its own pace.
//
// # Claims and nodes
//
// A node processes a segment only while it holds the segment's claim. Claims
// are extended as batches commit (or, when idle, after the extension
// threshold); a claim not extended for the claim timeout can be stolen by
// another node. Every commit is fenced by the claim's epoch, so a node that
// lost a claim cannot commit: its batch is dropped. Nodes see each other
// through node slots in the token store (a companion processor named
// name+"#nodes", whose claims are the nodes' heartbeats) and each aims at
// its fair share, ceil(segments/nodes), within its own limit. Each slot
// also says how many segments its node still wants: a node gives segments
// beyond its share up only as far as others want them, and takes more than
// its share only when nobody else wants them. So segments move to a node
// that joins, come back from one that leaves (at once if it stopped
// cleanly, after the claim timeout if it died), and never stay unclaimed
// because one node is limited.
//
// # Batches and exactly-once
//
// Events are handled in batches (WithBatchSize). Each Delivery carries a Tx:
// state writes to Eddy's store that commit in the same atomic batch as the
// segment's token, so effects inside Eddy are exactly-once. Effects outside
// are at-least-once: after a crash, the events of the last uncommitted batch
// are handled again.
//
// # Errors and dead letters
//
// A handler's error goes to the dead-letter queue's policy when the
// processor has one (WithDeadLetters): the event is parked, and so are the
// later events of its sequence, while other sequences flow on. Without one,
// the ErrorHandler decides; an error it returns fails the batch: a Tracking
// processor retries after a back-off of 1 s doubling to 60 s, a Pooled one
// gives the segment up to be claimed again. Status shows the error.
//
// # Replay
//
// ResetTokens (with the processor stopped on every node) moves every
// segment to the tail, the head, a time or a token. Reset handlers run first;
// handlers then see Delivery.Replay on the events they had seen before,
// until each segment passes the point it had reached. Handlers can refuse
// replays (SkipReplays, ReplayAware).
package processor

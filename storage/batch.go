package storage

import "slices"

// MaxEntrySize is the largest entry a log accepts. Records are state changes,
// not blobs; a larger entry is refused with ErrInvalid rather than truncated.
const MaxEntrySize = 16 << 20

// StateWrite is one change to a partition's key-value state.
type StateWrite struct {
	Key    []byte
	Value  []byte
	Delete bool
}

// TokenWrite stores a streaming processor's token under a claim, in the same
// atomic commit as the batch's entries and state writes: a handler that
// writes to Eddy's own state advances its token exactly once.
type TokenWrite struct {
	Claim Claim
	Token []byte
}

// Batch is what one commit makes durable, atomically: entries appended to one
// partition's log, state writes on that partition and token writes.
//
// Epoch fences the writer: the commit is refused with ErrFenced unless it
// equals the partition's current ownership epoch (0 for a partition that was
// never claimed). The batch does not copy the slices it is given; they must
// stay unchanged until Commit returns.
type Batch struct {
	Partition int
	Epoch     uint64

	entries [][]byte
	writes  []StateWrite
	tokens  []TokenWrite
	size    int
	waiting int
}

// NewBatch returns an empty batch for partition, fenced by epoch.
func NewBatch(partition int, epoch uint64) *Batch {
	return &Batch{Partition: partition, Epoch: epoch}
}

// Grow makes room for entries more entries and writes more state writes,
// so that a batch built from known parts is allocated once.
func (b *Batch) Grow(entries, writes int) {
	b.entries = slices.Grow(b.entries, entries)
	b.writes = slices.Grow(b.writes, writes)
}

// Append adds entries to the batch; they get consecutive positions.
func (b *Batch) Append(data ...[]byte) {
	for _, d := range data {
		b.entries = append(b.entries, d)
		b.size += len(d)
	}
}

// Put sets key to value in the partition's state.
func (b *Batch) Put(key, value []byte) {
	b.writes = append(b.writes, StateWrite{Key: key, Value: value})
	b.size += len(key) + len(value)
}

// Delete removes key from the partition's state.
func (b *Batch) Delete(key []byte) {
	b.writes = append(b.writes, StateWrite{Key: key, Delete: true})
	b.size += len(key)
}

// SaveToken stores token for the claimed segment in the same commit. The
// commit is refused with ErrFenced if the claim is no longer current.
func (b *Batch) SaveToken(c Claim, token []byte) {
	b.tokens = append(b.tokens, TokenWrite{Claim: c, Token: token})
	b.size += len(token)
}

// SetWaiting tells how many requests are answered once the batch is
// durable. A backend may use it to pace its syncs: while requests come in
// fast, holding a sync briefly lets more of them share it.
func (b *Batch) SetWaiting(n int) { b.waiting = n }

// Waiting is what SetWaiting set: 0 for a batch that no request waits for.
func (b *Batch) Waiting() int { return b.waiting }

// Entries returns the entries to append, in order.
func (b *Batch) Entries() [][]byte { return b.entries }

// Writes returns the state writes, in order; a later write to the same key
// wins.
func (b *Batch) Writes() []StateWrite { return b.writes }

// TokenWrites returns the token writes, in order.
func (b *Batch) TokenWrites() []TokenWrite { return b.tokens }

// Size is the number of payload bytes the batch carries.
func (b *Batch) Size() int { return b.size }

// Empty reports whether committing the batch would change nothing.
func (b *Batch) Empty() bool {
	return len(b.entries) == 0 && len(b.writes) == 0 && len(b.tokens) == 0
}

// Reset empties the batch for reuse, keeping its capacity.
func (b *Batch) Reset(partition int, epoch uint64) {
	clear(b.entries)
	clear(b.writes)
	clear(b.tokens)
	b.entries, b.writes, b.tokens = b.entries[:0], b.writes[:0], b.tokens[:0]
	b.Partition, b.Epoch, b.size = partition, epoch, 0
}

// validate checks what does not depend on stored state.
func (b *Batch) validate(partitions int) error {
	if b.Partition < 0 || b.Partition >= partitions {
		return invalidf("partition %d out of range [0, %d)", b.Partition, partitions)
	}
	for i, e := range b.entries {
		if len(e) > MaxEntrySize {
			return invalidf("partition %d: entry %d of the batch is %d bytes, the limit is %d", b.Partition, i, len(e), MaxEntrySize)
		}
	}
	for i, w := range b.writes {
		if len(w.Key) == 0 {
			return invalidf("partition %d: state write %d of the batch has an empty key", b.Partition, i)
		}
	}
	for i, t := range b.tokens {
		if err := t.Claim.validate(); err != nil {
			return invalidf("partition %d: token write %d of the batch: %v", b.Partition, i, err)
		}
		if len(t.Claim.Processor) > MaxProcessorName {
			return invalidf("partition %d: token write %d of the batch: processor name of %d bytes, the limit is %d", b.Partition, i, len(t.Claim.Processor), MaxProcessorName)
		}
	}
	return nil
}

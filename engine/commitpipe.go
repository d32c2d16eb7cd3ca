package engine

import (
	"context"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"

	"eddy/record"
	"eddy/storage"
)

// The partition loop does not wait for its commits: it hands each step's
// output to the commit pipe and goes on with the next inputs, so that the
// core works while the disk syncs. The pipe commits steps in order and
// answers a step's requests only once that step is durable; steps that
// queue up while a commit is in flight go out together in the next one.
// The core's state in memory may thus be a few steps ahead of storage:
// queries can see it, answers never do. A failed commit stops the
// partition (its state in memory holds what was lost), and every step
// still queued is answered with the error.
//
// The answers themselves are given by a goroutine of the pipe's own, in
// order: an answer may be a deferred HTTP response written to its socket
// (PublishEventAsync), a few microseconds each, and the next commit need
// not wait for a group's worth of them.

// pipeDepth bounds how many steps can wait for the disk before the loop
// stops taking inputs.
const pipeDepth = 16

// maxMergedSize bounds the bytes of one merged commit.
const maxMergedSize = 8 << 20

type pipeStep struct {
	entries [][]byte
	keys    [][]byte
	values  [][]byte     // nil: delete
	first   uint64       // position of the first entry, if any
	answers []pipeAnswer // one per input that waits for an answer
	size    int
	// outcomes are the step's records that outcome waiters need
	// (wantsOutcome), kept decoded.
	outcomes []record.Record
}

type pipeAnswer struct {
	reply reply
	res   result
}

type commitPipe struct {
	part  int
	epoch uint64
	store *storage.Store
	// durable gets each step's outcome records once the step is durable,
	// in log order, before any request of it is answered.
	durable func(*record.Record)
	// fail is told of a failed commit before anyone is answered, so that
	// a caller who gets the error finds the engine failed.
	fail  func(error)
	steps chan *pipeStep
	// committing is set while a commit is in flight: a step handed over
	// meanwhile waits for it to end.
	committing atomic.Bool
	failed     chan struct{} // closed after a commit failed; err says why
	err        error
	done       chan struct{}
}

func newCommitPipe(part int, epoch uint64, store *storage.Store, durable func(*record.Record), fail func(error)) *commitPipe {
	return &commitPipe{
		part: part, epoch: epoch, store: store, durable: durable, fail: fail,
		steps:  make(chan *pipeStep, pipeDepth),
		failed: make(chan struct{}),
		done:   make(chan struct{}),
	}
}

// run commits steps until steps is closed.
func (cp *commitPipe) run(ctx context.Context) {
	answers := make(chan []pipeAnswer, pipeDepth)
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		for as := range answers {
			for i := range as {
				as[i].reply.give(as[i].res)
			}
			putAnswers(as)
		}
	}()
	defer func() {
		close(answers)
		<-answered
		close(cp.done)
	}()
	var group []*pipeStep
	for s := range cp.steps {
		group = append(group[:0], s)
		size := s.size
	gather:
		for size < maxMergedSize {
			select {
			case s, ok := <-cp.steps:
				if !ok {
					break gather
				}
				group = append(group, s)
				size += s.size
			default:
				break gather
			}
		}
		// Only the group whose commit failed carries the storage error (its
		// outcome may be unknown); later groups were never written.
		var failure error
		if cp.err == nil {
			cp.committing.Store(true)
			cp.err = cp.commit(ctx, group)
			cp.committing.Store(false)
			if cp.err != nil {
				failure = fmt.Errorf("partition %d could not commit: %w", cp.part, cp.err)
				if cp.fail != nil {
					cp.fail(cp.err)
				}
				close(cp.failed)
			}
		} else {
			failure = errStopped(cp.part)
		}
		if failure == nil && cp.durable != nil {
			for _, s := range group {
				for i := range s.outcomes {
					cp.durable(&s.outcomes[i])
				}
			}
		}
		for _, s := range group {
			if failure != nil {
				for i := range s.answers {
					s.answers[i].res = result{err: failure}
				}
			}
			answers <- s.answers
			s.answers = nil
		}
	}
}

// A step's answers hold a response each (a record is most of a
// kilobyte): the slices are reused rather than allocated per step.
var answerSlices = sync.Pool{New: func() any { return new([]pipeAnswer) }}

func getAnswers(n int) []pipeAnswer {
	p := answerSlices.Get().(*[]pipeAnswer)
	if cap(*p) < n {
		// Sized up, so that a slice put back serves the larger steps too.
		return make([]pipeAnswer, 0, max(64, 1<<bits.Len(uint(n-1))))
	}
	return (*p)[:0]
}

func putAnswers(a []pipeAnswer) {
	if cap(a) == 0 || cap(a) > 4096 {
		return
	}
	clear(a) // let the responses go (past len, a was cleared before)
	a = a[:0]
	answerSlices.Put(&a)
}

func (cp *commitPipe) commit(ctx context.Context, group []*pipeStep) error {
	b := storage.NewBatch(cp.part, cp.epoch)
	entries, writes, waiting := 0, 0, 0
	for _, s := range group {
		entries += len(s.entries)
		writes += len(s.keys)
		waiting += len(s.answers)
	}
	b.Grow(entries, writes)
	b.SetWaiting(waiting)
	var first uint64
	for _, s := range group {
		if len(s.entries) > 0 && first == 0 {
			first = s.first
		}
		b.Append(s.entries...)
	}
	if len(group) == 1 {
		addWrites(b, group[0].keys, group[0].values)
	} else {
		// Later steps overwrite earlier ones: keep each key's last write.
		last := map[string]int{}
		var keys, values [][]byte
		for _, s := range group {
			for i, k := range s.keys {
				if j, ok := last[string(k)]; ok {
					values[j] = s.values[i]
					continue
				}
				last[string(k)] = len(keys)
				keys, values = append(keys, k), append(values, s.values[i])
			}
		}
		addWrites(b, keys, values)
	}
	if b.Empty() {
		return nil
	}
	got, err := cp.store.Commit(ctx, b)
	if err == nil && first != 0 && got != first {
		err = fmt.Errorf("partition %d: the log's positions (from %d) differ from the engine's (%d)", cp.part, got, first)
	}
	return err
}

func addWrites(b *storage.Batch, keys, values [][]byte) {
	for i, k := range keys {
		if values[i] == nil {
			b.Delete(k)
		} else {
			b.Put(k, values[i])
		}
	}
}

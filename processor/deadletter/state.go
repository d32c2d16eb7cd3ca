package deadletter

import (
	"crypto/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	"eddy/storage"
)

// queueState is what every Queue opened in this process on one store, for
// one processor and partition, shares: the locks, the known sequences and
// the lease counter. Two Opens of the same queue (the processor's and an
// operator's, say) must not change a sequence at once, and on the embedded
// store the in-process locks are the only ones.
type queueState struct {
	locks *locks
	known *knownSequences
	// owner names this process in storage claims and leases; leases counts
	// Process calls, so that each holds a lease of its own.
	owner  string
	leases atomic.Uint64
	// epoch is the partition's ownership epoch as last read.
	epoch atomic.Uint64
	// creating serializes the creation of sequences in this process, so that
	// the count checked against WithMaxSequences is exact here.
	creating sync.Mutex
}

type stateKey struct {
	store     weak.Pointer[storage.Store]
	processor string
	partition int
}

var (
	statesMu sync.Mutex
	states   = map[stateKey]*queueState{}
)

// stateFor returns the shared state of a queue, creating it on first use
// with the opener's lock settings. It is dropped when the store is garbage.
func stateFor(store *storage.Store, processor string, partition int, o options, shared bool) *queueState {
	key := stateKey{store: weak.Make(store), processor: processor, partition: partition}
	statesMu.Lock()
	defer statesMu.Unlock()
	if s := states[key]; s != nil {
		return s
	}
	s := newQueueState(store, processor, o, shared)
	states[key] = s
	runtime.AddCleanup(store, func(k stateKey) {
		statesMu.Lock()
		delete(states, k)
		statesMu.Unlock()
	}, key)
	return s
}

// forgetState drops the shared state of a queue, so that a queue dropped
// for good holds no memory in this process.
func forgetState(store *storage.Store, processor string, partition int) {
	statesMu.Lock()
	delete(states, stateKey{store: weak.Make(store), processor: processor, partition: partition})
	statesMu.Unlock()
}

func newQueueState(store *storage.Store, processor string, o options, shared bool) *queueState {
	owner := "deadletter-" + rand.Text()
	if o.node != "" {
		owner = o.node + "/" + owner
	}
	s := &queueState{known: newKnownSequences(), owner: owner}
	s.locks = newLocks(store, processor, s.owner, o, shared)
	return s
}

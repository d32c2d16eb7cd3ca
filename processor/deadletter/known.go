package deadletter

import (
	"maps"
	"sync"
	"sync/atomic"
)

// knownSequences is this node's view of which sequences are dead-lettered:
// what Contains answers from, without IO. Readers load an immutable map;
// writers, rare, copy it. Each entry remembers the generation in which it
// was added, so that a refresh keeps what was added while it was reading
// storage (a sequence missing from the set would let an event jump its
// queue; one too many only costs a storage read).
type knownSequences struct {
	set atomic.Pointer[map[string]uint64]

	mu  sync.Mutex // serializes writers
	gen uint64
}

func newKnownSequences() *knownSequences {
	k := &knownSequences{}
	k.set.Store(&map[string]uint64{})
	return k
}

func (k *knownSequences) contains(seq string) bool {
	m := *k.set.Load()
	if len(m) == 0 {
		return false
	}
	_, ok := m[seq]
	return ok
}

func (k *knownSequences) add(seq string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	old := *k.set.Load()
	if _, ok := old[seq]; ok {
		return
	}
	k.gen++
	m := maps.Clone(old)
	if m == nil {
		m = map[string]uint64{}
	}
	m[seq] = k.gen
	k.set.Store(&m)
}

func (k *knownSequences) remove(seq string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	old := *k.set.Load()
	if _, ok := old[seq]; !ok {
		return
	}
	m := maps.Clone(old)
	delete(m, seq)
	k.set.Store(&m)
}

// generation marks the start of a refresh.
func (k *knownSequences) generation() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.gen
}

// replace installs the sequences read from storage, keeping those added
// since generation from (their commits may have missed the read).
func (k *knownSequences) replace(from uint64, stored []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	m := make(map[string]uint64, len(stored))
	for _, s := range stored {
		m[s] = 0
	}
	for s, g := range *k.set.Load() {
		if g > from {
			m[s] = g
		}
	}
	k.set.Store(&m)
}

func (k *knownSequences) len() int { return len(*k.set.Load()) }

package pebble

import (
	"sort"
	"sync"
)

// recentChunks keeps a partition's newest log chunks in memory, as they
// were written. Most reads follow the head (the engine's inbox readers,
// streaming processors, live tails); each used to open a Pebble iterator
// and seek it through every level of the tree, which under load cost more
// than the writes themselves. A read that starts inside the kept range is
// served from here; an older one goes to Pebble.
type recentChunks struct {
	mu     sync.RWMutex
	chunks []recentChunk // consecutive: each starts where the one before ends
	start  int           // chunks[:start] are dropped
	next   uint64        // the position after the last kept chunk
	bytes  int
}

type recentChunk struct {
	first uint64
	value []byte // immutable once kept
}

// Bounds of what a partition keeps: enough for readers a few commits
// behind, small against Pebble's own memtable.
const (
	recentMaxBytes  = 4 << 20
	recentMaxChunks = 4096
)

// add keeps a chunk committed to the write-ahead log. A chunk that does not
// follow the kept ones (the first after opening) starts the range anew.
func (r *recentChunks) add(first uint64, value []byte, count uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.start == len(r.chunks) || first != r.next {
		clear(r.chunks)
		r.chunks, r.start, r.bytes = r.chunks[:0], 0, 0
	}
	r.chunks = append(r.chunks, recentChunk{first: first, value: value})
	r.next = first + count
	r.bytes += len(value)
	for len(r.chunks)-r.start > 1 && (r.bytes > recentMaxBytes || len(r.chunks)-r.start > recentMaxChunks) {
		r.bytes -= len(r.chunks[r.start].value)
		r.chunks[r.start] = recentChunk{}
		r.start++
	}
	if r.start > len(r.chunks)/2 && r.start > 64 {
		// Slide the kept chunks to the front rather than letting the
		// slice's dropped head grow without end.
		n := copy(r.chunks, r.chunks[r.start:])
		clear(r.chunks[n:])
		r.chunks, r.start = r.chunks[:n], 0
	}
}

// from appends to dst up to n kept chunks from the one holding position
// pos on, or reports false when pos is not in what is kept.
func (r *recentChunks) from(dst []recentChunk, pos uint64, n int) ([]recentChunk, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	kept := r.chunks[r.start:]
	if len(kept) == 0 || pos < kept[0].first || pos >= r.next {
		return dst, false
	}
	// The chunk holding pos is the last one that starts at or before it.
	i := sort.Search(len(kept), func(i int) bool { return kept[i].first > pos }) - 1
	kept = kept[i:]
	return append(dst, kept[:min(len(kept), n)]...), true
}

package pebble

import (
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Pebble makes a write visible as soon as it is in the memtable, before its
// sync. State and token reads must show only what was acknowledged, so they
// read a snapshot taken right after a group was applied (under mu, so it
// holds that group and nothing later) and published once the group's sync
// is done. Log reads need none of this: they stop at the synced head.
type view struct {
	snap *pebble.Snapshot
	gen  uint64 // the commit generation the snapshot covers
	refs int    // readers using it; guarded by views.mu
}

type views struct {
	mu      sync.Mutex
	current *view
}

// acquire returns the current view; release it after reading.
func (vs *views) acquire() *view {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	v := vs.current
	v.refs++
	return v
}

func (vs *views) release(v *view) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	v.refs--
	if v.refs == 0 && v != vs.current {
		v.snap.Close()
	}
}

// publish makes snap, covering generation gen, the view readers get, unless
// a newer one is published already (groups may finish their syncs out of
// order; a later sync covers the earlier writes too).
func (vs *views) publish(snap *pebble.Snapshot, gen uint64) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if vs.current != nil && gen <= vs.current.gen {
		snap.Close()
		return
	}
	old := vs.current
	vs.current = &view{snap: snap, gen: gen}
	if old != nil && old.refs == 0 {
		old.snap.Close()
	}
}

// close releases the current view; no reader may be active.
func (vs *views) close() {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if vs.current != nil {
		vs.current.snap.Close()
		vs.current = nil
	}
}

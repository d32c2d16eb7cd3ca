package storage

import "sync"

// Signal wakes every waiter once per Notify: Wait returns a channel that the
// next Notify closes. Backends keep one per partition to implement Changed.
// It allocates only while someone waits, so Notify on the append path is
// nearly free.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// Wait returns a channel closed by the next Notify.
func (s *Signal) Wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Notify wakes the current waiters.
func (s *Signal) Notify() {
	s.mu.Lock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
	s.mu.Unlock()
}

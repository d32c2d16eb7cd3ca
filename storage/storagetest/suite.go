package storagetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"eddy/storage"
)

// Features declares what a backend can do beyond what every backend must.
type Features struct {
	// SharedLocation: two stores may be open on one location at once
	// (several nodes on one PostgreSQL).
	SharedLocation bool
}

// Run runs the conformance suite against backend, as named subtests grouped
// by subject (Log, Timestamps, Concurrency, Tail, State, Persistence,
// Ownership, Tokens, Shared, Closed). newLocation returns a fresh, empty
// location (a directory, a DSN, ...) each time it is called; every subtest
// asks for its own, and closes the stores it opened when it ends.
func Run(t *testing.T, backend string, newLocation func(t testing.TB) string, f Features) {
	s := &suite{backend: backend, newLocation: newLocation, features: f}
	groups := []struct {
		name  string
		tests []test
		skip  bool
	}{
		{"Log", logTests, false},
		{"Timestamps", timestampTests, false},
		{"Concurrency", concurrencyTests, false},
		{"Tail", tailTests, false},
		{"State", stateTests, false},
		{"Persistence", persistenceTests, false},
		{"Ownership", ownershipTests, false},
		{"Tokens", tokenTests, false},
		{"Segments", segmentTests, false},
		{"Shared", sharedTests, !f.SharedLocation},
		{"Closed", closedTests, false},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			if g.skip {
				t.Skipf("backend %s does not support two stores on one location (Features.SharedLocation)", backend)
			}
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, s) })
			}
		})
	}
}

// test is one named check of the suite.
type test struct {
	name string
	run  func(t *testing.T, s *suite)
}

// suite carries what Run was given to every test.
type suite struct {
	backend     string
	newLocation func(t testing.TB) string
	features    Features
}

// guard bounds every test's context: only a guard against hanging, never a
// performance assertion.
const guard = time.Minute

// ctx returns the test's context, cancelled when the test ends or the
// guard deadline passes.
func (s *suite) ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), guard)
	t.Cleanup(cancel)
	return ctx
}

// store is an open storage.Store that the suite closes when the test ends,
// unless the test closed it first.
type store struct {
	*storage.Store
	location string
	once     sync.Once
	closeErr error
}

// open opens a store at location and closes it when the test ends.
func (s *suite) open(t testing.TB, location string, opts ...storage.Opt) *store {
	t.Helper()
	st, err := s.tryOpen(t, location, opts...)
	if err != nil {
		t.Fatalf("open %s store at %q: %v", s.backend, location, err)
	}
	return st
}

// tryOpen is open that hands the error back.
func (s *suite) tryOpen(t testing.TB, location string, opts ...storage.Opt) (*store, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	inner, err := storage.Open(ctx, s.backend, location, opts...)
	if err != nil {
		return nil, err
	}
	st := &store{Store: inner, location: location}
	t.Cleanup(func() {
		if err := st.close(); err != nil {
			t.Errorf("close %s store at %q: %v", s.backend, location, err)
		}
	})
	return st, nil
}

// fresh opens a store at a new location.
func (s *suite) fresh(t testing.TB, opts ...storage.Opt) *store {
	t.Helper()
	return s.open(t, s.newLocation(t), opts...)
}

// close closes the store once; later calls return the first result.
func (st *store) close() error {
	st.once.Do(func() { st.closeErr = st.Store.Close() })
	return st.closeErr
}

// mustClose closes the store and fails the test if that fails.
func (st *store) mustClose(t testing.TB) {
	t.Helper()
	if err := st.close(); err != nil {
		t.Fatalf("close store at %q: %v", st.location, err)
	}
}

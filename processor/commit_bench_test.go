package processor

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"eddy/internal/pgtest"
	"eddy/storage"
	_ "eddy/storage/pebble"
	_ "eddy/storage/postgres"
)

// BenchmarkTokenCommit measures what committing a segment's token costs: one
// durable batch carrying the token (of a three-partition log) under the
// segment's claim, as a work package commits after each batch; with a state
// write beside it (a handler's Tx); and, as the baseline, the state write
// alone without a token. committers=16 runs sixteen segments at once, whose
// commits share syncs through the store's group commit.
func BenchmarkTokenCommit(b *testing.B) {
	locations := map[string]func(testing.TB) string{
		"pebble":   func(tb testing.TB) string { return tb.TempDir() },
		"postgres": pgtest.Schema,
	}
	for _, backend := range []string{"pebble", "postgres"} {
		for _, committers := range []int{1, 16} {
			for _, kind := range []string{"token", "token+write", "write"} {
				b.Run(fmt.Sprintf("%s/committers=%d/%s", backend, committers, kind), func(b *testing.B) {
					benchTokenCommit(b, backend, locations[backend](b), committers, kind)
				})
			}
		}
	}
}

func benchTokenCommit(b *testing.B, backend, location string, committers int, kind string) {
	ctx := context.Background()
	st, err := storage.Open(ctx, backend, location)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	p, err := New("bench", st, NewMemorySource(1, nil), HandlerFunc(func(context.Context, Delivery) error { return nil }))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.refreshEpoch(ctx); err != nil {
		b.Fatal(err)
	}
	if err := p.tokens.InitializeSegments(ctx, "bench", 16, nil); err != nil {
		b.Fatal(err)
	}
	token := newProgress(NewToken(Position{Offset: 123456}, Position{Partition: 1, Offset: 234567}, Position{Partition: 2, Offset: 345678})).encode()
	claims := make([]storage.Claim, committers)
	for i := range claims {
		seg, err := p.tokens.ClaimSegment(ctx, "bench", i, "node", DefaultClaimTimeout)
		if err != nil {
			b.Fatal(err)
		}
		claims[i] = seg.Claim()
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, c := range claims {
		n := b.N / committers
		if i < b.N%committers {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tx := newTx(st, 0)
			var tokens []storage.TokenWrite
			if kind != "write" {
				tokens = []storage.TokenWrite{{Claim: c, Token: token}}
			}
			for range n {
				if kind != "token" {
					tx.Put([]byte("projection/key"), []byte("value"))
				}
				if err := p.commit(ctx, &tx, tokens...); err != nil {
					b.Error(err)
					return
				}
				tx.writes = tx.writes[:0]
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

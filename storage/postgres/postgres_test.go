package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"eddy/internal/pgtest"
	"eddy/storage"
)

// guard bounds a test that waits for something; it never measures time.
func guard(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func openBackend(t testing.TB, dsn string, partitions int) *backend {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	b, err := Open(guard(t), dsn, storage.Options{Partitions: partitions, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.(*backend)
}

func query[T any](t testing.TB, dsn, sql string) T {
	t.Helper()
	ctx := guard(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v T
	if err := conn.QueryRow(ctx, sql).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func TestMigrationsAreVersioned(t *testing.T) {
	dsn := pgtest.Schema(t)
	openBackend(t, dsn, 0).Close()
	openBackend(t, dsn, 0).Close()
	if n := query[int](t, dsn, `SELECT count(*) FROM eddy_schema_version`); n != 1 {
		t.Fatalf("eddy_schema_version has %d rows, want 1", n)
	}
	if v := query[int](t, dsn, `SELECT version FROM eddy_schema_version`); v != len(migrations) {
		t.Fatalf("schema version %d, want %d", v, len(migrations))
	}

	future := len(migrations) + 1
	query[int](t, dsn, fmt.Sprintf(`UPDATE eddy_schema_version SET version = %d RETURNING version`, future))
	_, err := Open(guard(t), dsn, storage.Options{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("is at version %d, newer than this build knows (%d)", future, len(migrations))) {
		t.Fatalf("opening a schema from the future: got %v", err)
	}
}

func TestPartitionCount(t *testing.T) {
	dsn := pgtest.Schema(t)
	if n := openBackend(t, dsn, 0).Partitions(); n != storage.DefaultPartitions {
		t.Fatalf("new store has %d partitions, want the default %d", n, storage.DefaultPartitions)
	}

	dsn = pgtest.Schema(t)
	openBackend(t, dsn, 4).Close()
	_, err := Open(guard(t), dsn, storage.Options{Partitions: 5})
	// The advice must hold for eddy dev too, which refuses --partitions 0.
	if !errors.Is(err, storage.ErrInvalid) || !strings.Contains(err.Error(), "has 4 partitions, 5 were requested (the count is fixed when a store is created)") {
		t.Fatalf("reopening 4 partitions as 5: got %v", err)
	}
	if n := openBackend(t, dsn, 0).Partitions(); n != 4 {
		t.Fatalf("reopening with 0 gives %d partitions, want the stored 4", n)
	}
	if n := openBackend(t, dsn, 4).Partitions(); n != 4 {
		t.Fatalf("reopening with 4 gives %d partitions", n)
	}
}

func TestUnreachableServerIsOneClearLine(t *testing.T) {
	_, err := Open(guard(t), "postgres://postgres:sekret@127.0.0.1:1/test?sslmode=disable", storage.Options{})
	const want = "postgres: cannot connect to 127.0.0.1:1: connection refused"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestMissingSchemaIsAClearError(t *testing.T) {
	dsn := pgtest.DSN(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	_, err := Open(guard(t), dsn+sep+"search_path=eddy_no_such_schema", storage.Options{})
	if err == nil || !strings.Contains(err.Error(), `search_path "eddy_no_such_schema" names no existing schema`) {
		t.Fatalf("got %v", err)
	}
}

// Two stores on one schema are two nodes: an append through one wakes a tail
// on the other through LISTEN/NOTIFY.
func TestAppendWakesTailOnAnotherNode(t *testing.T) {
	ctx := guard(t)
	dsn := pgtest.Schema(t)
	a, err := storage.Open(ctx, "postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	bb := openBackend(t, dsn, 0)
	b := storage.New(bb, "postgres", 0)

	// Taken before the append, this channel can only close through B's
	// listener: A's local wake-up is A's own.
	changed := bb.Changed(1)
	if _, err := a.Append(ctx, 1, 0, []byte("one")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-ctx.Done():
		t.Fatal("no wake-up on node B after an append on node A")
	}

	tail, err := b.Tail(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 2)
	tailErr := make(chan error, 1)
	go func() {
		for range 2 {
			if _, err := tail.Next(ctx, 10, func(e storage.Entry) error {
				got <- fmt.Sprintf("%d:%s", e.Position, e.Data)
				return nil
			}); err != nil {
				tailErr <- err
				return
			}
		}
	}()
	if s := <-got; s != "1:one" {
		t.Fatalf("tail on B read %q, want 1:one", s)
	}
	if _, err := a.Append(ctx, 1, 0, []byte("two")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "2:two" {
			t.Fatalf("tail on B read %q, want 2:two", s)
		}
	case err := <-tailErr:
		t.Fatal(err)
	case <-ctx.Done():
		t.Fatal("tail on B did not wake for an append on A")
	}
}

// A listener whose connection is cut reconnects, wakes every partition (it
// may have missed appends) and then hears appends again.
func TestListenerReconnects(t *testing.T) {
	ctx := guard(t)
	dsn := pgtest.Schema(t)
	a := openBackend(t, dsn, 2)
	b := openBackend(t, dsn, 2)

	missed := b.Changed(1)
	pid := b.listener.pid.Load()
	if !query[bool](t, dsn, fmt.Sprintf(`SELECT pg_terminate_backend(%d)`, pid)) {
		t.Fatalf("could not terminate the listener's backend %d", pid)
	}
	select {
	case <-missed: // partitions are woken in order, so partition 0 was too
	case <-ctx.Done():
		t.Fatal("no wake-up after the listener reconnected")
	}
	if b.listener.pid.Load() == pid {
		t.Fatal("the listener still reports the terminated backend")
	}

	changed := b.Changed(0)
	commit(t, a, storage.NewBatch(0, 0), "after reconnect")
	select {
	case <-changed:
	case <-ctx.Done():
		t.Fatal("no wake-up for an append after the listener reconnected")
	}
}

// commit commits one batch with entries straight to the backend.
func commit(t testing.TB, b *backend, bt *storage.Batch, entries ...string) uint64 {
	t.Helper()
	for _, e := range entries {
		bt.Append([]byte(e))
	}
	firsts, errs := make([]uint64, 1), make([]error, 1)
	if err := b.Commit(guard(t), []*storage.Batch{bt}, firsts, errs); err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	return firsts[0]
}

func readAll(t testing.TB, b *backend, partition int) []string {
	t.Helper()
	var got []string
	err := b.Read(guard(t), partition, 1, 1<<30, func(e storage.Entry) error {
		got = append(got, fmt.Sprintf("%d:%s", e.Position, e.Data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// One group mixes passing and fenced batches: the fenced ones are left out,
// the others get consecutive positions in group order, and a later state
// write to a key wins over an earlier one in the same group.
func TestCommitGroupFencesBatchesOneByOne(t *testing.T) {
	ctx := guard(t)
	b := openBackend(t, pgtest.Schema(t), 2)
	claim, err := b.ClaimPartition(ctx, 0, "n1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.InitializeSegments(ctx, "proc", 2, nil); err != nil {
		t.Fatal(err)
	}
	seg, err := b.ClaimSegment(ctx, "proc", 1, "n1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	ok1 := storage.NewBatch(0, claim.Epoch)
	ok1.Append([]byte("a"), []byte("b"))
	ok1.Put([]byte("k"), []byte("first"))
	stale := storage.NewBatch(0, 0)
	stale.Append([]byte("stale"))
	other := storage.NewBatch(1, 0)
	other.Append([]byte("c"))
	ok2 := storage.NewBatch(0, claim.Epoch)
	ok2.Append([]byte("d"))
	ok2.Put([]byte("k"), []byte("second"))
	ok2.Put([]byte("gone"), []byte("x"))
	ok2.Delete([]byte("gone"))
	ok2.SaveToken(seg.Claim(), []byte("tok"))
	staleToken := storage.NewBatch(0, claim.Epoch)
	staleToken.Append([]byte("stale token"))
	staleClaim := seg.Claim()
	staleClaim.Epoch--
	staleToken.SaveToken(staleClaim, []byte("bad"))
	noSegment := storage.NewBatch(1, 0)
	noSegment.SaveToken(storage.Claim{Processor: "proc", Segment: 7, Owner: "n1", Epoch: 1}, []byte("bad"))

	batches := []*storage.Batch{ok1, stale, other, ok2, staleToken, noSegment}
	firsts, errs := make([]uint64, len(batches)), make([]error, len(batches))
	if err := b.Commit(ctx, batches, firsts, errs); err != nil {
		t.Fatal(err)
	}
	if want := []uint64{1, 0, 1, 3, 0, 0}; fmt.Sprint(firsts) != fmt.Sprint(want) {
		t.Errorf("firsts %v, want %v", firsts, want)
	}
	for i, want := range []error{nil, storage.ErrFenced, nil, nil, storage.ErrFenced, storage.ErrNotFound} {
		if !errors.Is(errs[i], want) || (want == nil) != (errs[i] == nil) {
			t.Errorf("batch %d: error %v, want %v", i, errs[i], want)
		}
	}
	if got := fmt.Sprint(readAll(t, b, 0)); got != "[1:a 2:b 3:d]" {
		t.Errorf("partition 0 holds %s", got)
	}
	if got := fmt.Sprint(readAll(t, b, 1)); got != "[1:c]" {
		t.Errorf("partition 1 holds %s", got)
	}
	if v, err := b.Get(ctx, 0, []byte("k")); err != nil || string(v) != "second" {
		t.Errorf("k = %q, %v; want second", v, err)
	}
	if _, err := b.Get(ctx, 0, []byte("gone")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("deleted key: %v", err)
	}
	segs, err := b.Segments(ctx, "proc")
	if err != nil || len(segs) != 2 || string(segs[1].Token) != "tok" || segs[0].Token != nil {
		t.Errorf("segments after commit: %+v, %v", segs, err)
	}
	bounds, err := b.Bounds(ctx, 0)
	if err != nil || bounds != (storage.Bounds{First: 1, Last: 3}) {
		t.Errorf("bounds %+v, %v", bounds, err)
	}
}

// Read streams in chunks of readChunk; a long read crosses chunk borders
// without losing or repeating an entry.
func TestReadAcrossChunks(t *testing.T) {
	b := openBackend(t, pgtest.Schema(t), 1)
	bt := storage.NewBatch(0, 0)
	n := 2*readChunk + 5
	for i := range n {
		bt.Append([]byte(fmt.Sprint(i + 1)))
	}
	commit(t, b, bt)
	for _, limit := range []int{readChunk, readChunk + 1, n - 1, n, n + 100} {
		next := uint64(1)
		err := b.Read(guard(t), 0, 1, limit, func(e storage.Entry) error {
			if e.Position != next || !bytes.Equal(e.Data, []byte(fmt.Sprint(next))) {
				return fmt.Errorf("entry %d:%s, want position %d", e.Position, e.Data, next)
			}
			next++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := int(next-1), min(limit, n); got != want {
			t.Errorf("limit %d: read %d entries, want %d", limit, got, want)
		}
	}
}

func TestScanPrefix(t *testing.T) {
	b := openBackend(t, pgtest.Schema(t), 1)
	bt := storage.NewBatch(0, 0)
	for _, k := range []string{"a", "a\xff", "a\xff\xff", "ab", "b", "\xff", "\xff\xff"} {
		bt.Put([]byte(k), []byte("v"+k))
	}
	commit(t, b, bt)
	for prefix, want := range map[string]string{
		"":      `["a" "ab" "a\xff" "a\xff\xff" "b" "\xff" "\xff\xff"]`,
		"a":     `["a" "ab" "a\xff" "a\xff\xff"]`,
		"a\xff": `["a\xff" "a\xff\xff"]`,
		"\xff":  `["\xff" "\xff\xff"]`,
		"c":     `[]`,
	} {
		var got []string
		err := b.Scan(guard(t), 0, []byte(prefix), func(k, v []byte) error {
			if string(v) != "v"+string(k) {
				return fmt.Errorf("key %q has value %q", k, v)
			}
			got = append(got, string(k))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if s := fmt.Sprintf("%q", got); s != want {
			t.Errorf("prefix %q: got %s, want %s", prefix, s, want)
		}
	}
}

func TestMergeChecksSiblings(t *testing.T) {
	ctx := guard(t)
	b := openBackend(t, pgtest.Schema(t), 1)
	if err := b.InitializeSegments(ctx, "p", 4, []byte("t0")); err != nil {
		t.Fatal(err)
	}
	claims := make([]storage.Claim, 4)
	for i := range claims {
		s, err := b.ClaimSegment(ctx, "p", i, "n", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		claims[i] = s.Claim()
	}
	if _, err := b.MergeSegments(ctx, claims[0], claims[1], nil); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("merging non-siblings 0 and 1 of mask 3: %v", err)
	}
	stale := claims[2]
	stale.Epoch++
	if _, err := b.MergeSegments(ctx, claims[0], stale, nil); !errors.Is(err, storage.ErrFenced) {
		t.Errorf("merging with a stale claim: %v", err)
	}
	merged, err := b.MergeSegments(ctx, claims[2], claims[0], []byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	if merged.ID != 0 || merged.Mask != 1 || merged.Owner != "n" || string(merged.Token) != "m" {
		t.Errorf("merged segment %+v", merged)
	}
	segs, err := b.Segments(ctx, "p")
	if err != nil || len(segs) != 3 || segs[0].Epoch != merged.Epoch || segs[0].Mask != 1 {
		t.Errorf("segments after merge %+v, %v", segs, err)
	}
	if _, err := b.MergeSegments(ctx, merged.Claim(), claims[1], nil); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("merging masks 1 and 3: %v", err)
	}
	if err := b.StoreToken(ctx, claims[0], []byte("x")); !errors.Is(err, storage.ErrFenced) {
		t.Errorf("the lower segment's old claim after it changed hands in the merge: %v", err)
	}
}

// Concurrent Commit calls are carried by shared transactions; each still
// gets its own results, and positions stay gapless.
func TestConcurrentCommitCalls(t *testing.T) {
	b := openBackend(t, pgtest.Schema(t), 2)
	const callers, calls = 8, 25
	firsts := make(chan uint64, callers*calls*2)
	errc := make(chan error, callers)
	for c := range callers {
		go func() {
			for range calls {
				// Two batches per call: one that appends two entries and
				// one that is fenced.
				ok := storage.NewBatch(0, 0)
				ok.Append([]byte("x"), []byte("y"))
				fenced := storage.NewBatch(1, 99)
				fenced.Append([]byte("z"))
				fs, es := make([]uint64, 2), make([]error, 2)
				if err := b.Commit(guard(t), []*storage.Batch{fenced, ok}, fs, es); err != nil {
					errc <- err
					return
				}
				if es[1] != nil || !errors.Is(es[0], storage.ErrFenced) || fs[0] != 0 {
					errc <- fmt.Errorf("caller %d: firsts %v, errors %v", c, fs, es)
					return
				}
				firsts <- fs[1]
			}
			errc <- nil
		}()
	}
	for range callers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	close(firsts)
	seen := map[uint64]bool{}
	for f := range firsts {
		if f%2 != 1 || seen[f] {
			t.Fatalf("first position %d given twice or not at a batch start", f)
		}
		seen[f] = true
	}
	if got := len(readAll(t, b, 0)); got != 2*callers*calls {
		t.Fatalf("partition 0 holds %d entries, want %d", got, 2*callers*calls)
	}
	if bounds, err := b.Bounds(guard(t), 0); err != nil || bounds.Last != 2*callers*calls {
		t.Fatalf("bounds %+v, %v", bounds, err)
	}
}

// Merging gives the lower id a's owner, the clock's time and an epoch above
// both; splitting gives the sibling the parent's epoch. So an owner that held
// an id before a merge never gets that id's epoch back after a split.
func TestMergeAndSplitEpochs(t *testing.T) {
	ctx := guard(t)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	be, err := Open(ctx, pgtest.Schema(t), storage.Options{Partitions: 1, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	b := be.(*backend)
	if err := b.InitializeSegments(ctx, "p", 2, nil); err != nil {
		t.Fatal(err)
	}
	claim := func(id int, owner string, times int) storage.Segment {
		t.Helper()
		var s storage.Segment
		for range times {
			if s, err = b.ClaimSegment(ctx, "p", id, owner, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	low := claim(0, "low", 1)
	high := claim(1, "high", 3)
	now = now.Add(time.Second)
	merged, err := b.MergeSegments(ctx, high.Claim(), low.Claim(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if merged.ID != 0 || merged.Owner != "high" || merged.Epoch != high.Epoch+1 || !merged.ClaimedAt.Equal(now) {
		t.Fatalf("merged %+v, want segment 0 owned by high at epoch %d claimed at %v", merged, high.Epoch+1, now)
	}
	for _, old := range []storage.Claim{low.Claim(), high.Claim()} {
		if err := b.StoreToken(ctx, old, nil); !errors.Is(err, storage.ErrFenced) && !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("store token with %s after the merge: %v", old, err)
		}
	}
	sibling, err := b.SplitSegment(ctx, merged.Claim())
	if err != nil {
		t.Fatal(err)
	}
	if sibling.ID != 1 || sibling.Owner != "" || sibling.Epoch != merged.Epoch {
		t.Fatalf("sibling %+v, want segment 1 unclaimed at epoch %d", sibling, merged.Epoch)
	}
	segs, err := b.Segments(ctx, "p")
	if err != nil || len(segs) != 2 || segs[1].Epoch != merged.Epoch || segs[0].Epoch != merged.Epoch || segs[0].Owner != "high" {
		t.Fatalf("segments after the split %+v, %v", segs, err)
	}
	for range 5 {
		again := claim(1, "high", 1)
		if err := b.StoreToken(ctx, high.Claim(), nil); !errors.Is(err, storage.ErrFenced) {
			t.Fatalf("high holds segment 1 again at epoch %d: its claim from before the merge (epoch %d) gets %v", again.Epoch, high.Epoch, err)
		}
	}
}

// Commits wait for the WAL flush even for a role whose default is
// synchronous_commit=off, unless the DSN asks otherwise.
func TestSynchronousCommitUnlessTheDSNSaysOtherwise(t *testing.T) {
	dsn := pgtest.Schema(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	role := "async_" + schema
	admin := pgtest.DSN(t)
	pgtest.Exec(t, admin, "CREATE ROLE "+role+" LOGIN",
		"ALTER ROLE "+role+" SET synchronous_commit = off",
		"GRANT ALL ON SCHEMA "+schema+" TO "+role)
	t.Cleanup(func() { pgtest.Exec(t, admin, "DROP OWNED BY "+role, "DROP ROLE "+role) })
	u.User = url.User(role)
	asRole := u.String()
	for _, tc := range []struct{ dsn, want string }{
		{asRole, "on"},
		{asRole + "&synchronous_commit=off", "off"},
	} {
		b := openBackend(t, tc.dsn, 1)
		var got string
		if err := b.pool.QueryRow(guard(t), "SHOW synchronous_commit").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: synchronous_commit is %s, want %s", tc.dsn, got, tc.want)
		}
	}
}

package processor_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"eddy/processor"
	"eddy/processor/internal/fakeclock"
	"eddy/storage"
)

var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// drain reads from st until it has n events, failing on a hang.
func drain(t testing.TB, st processor.Stream, n int) []processor.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []processor.Event
	for len(out) < n {
		evs, err := st.Next(ctx, -1)
		if err != nil {
			t.Fatalf("next after %d of %d events: %v", len(out), n, err)
		}
		out = append(out, evs...)
	}
	return out
}

// checkEmpty fails if st has events ready.
func checkEmpty(t testing.TB, st processor.Stream) {
	t.Helper()
	evs, err := st.Next(context.Background(), 0)
	if err != nil || len(evs) != 0 {
		t.Fatalf("stream should have nothing ready, got %d events, %v", len(evs), err)
	}
}

func TestMemorySource(t *testing.T) {
	clock := fakeclock.New(epoch)
	src := processor.NewMemorySource(2, clock.Now)
	src.Append(0, processor.Event{Key: "a"}, processor.Event{Key: "b"})
	clock.Advance(time.Minute)
	src.Append(1, processor.Event{Key: "c"})
	ctx := context.Background()

	head, _ := src.HeadToken(ctx)
	if want := processor.NewToken(processor.Position{Offset: 2}, processor.Position{Partition: 1, Offset: 1}); !head.Equal(want) {
		t.Fatalf("head %s, want %s", head, want)
	}
	at, _ := src.TokenAt(ctx, epoch.Add(time.Second))
	if want := processor.NewToken(processor.Position{Offset: 2}); !at.Equal(want) {
		t.Fatalf("token at a time between the appends: %s, want %s", at, want)
	}
	st, err := src.Open(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got := drain(t, st, 1)
	if len(got) != 1 || got[0].Key != "c" || got[0].Position != (processor.Position{Partition: 1, Offset: 1}) {
		t.Fatalf("after %s: %+v, want only c at 1@1", at, got)
	}
	checkEmpty(t, st)
	// A waiting Next wakes on an append.
	result := make(chan []processor.Event)
	go func() { result <- drain(t, st, 1) }()
	src.Append(0, processor.Event{Key: "d"})
	if evs := <-result; evs[0].Key != "d" || evs[0].Position.Offset != 3 {
		t.Fatalf("woken with %+v, want d at 0@3", evs)
	}
	if _, err := src.Open(ctx, processor.NewToken(processor.Position{Partition: 5, Offset: 1})); err == nil {
		t.Fatal("opening at a token naming partition 5 of 2: no error")
	}
}

func TestLogSource(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clock := fakeclock.New(epoch)
		st := b.fresh(t, storage.WithClock(clock.Now), storage.WithPartitions(2))
		ctx := context.Background()
		src := processor.NewLogSource(st, processor.WithDecoder(decodeRecord), processor.WithReadSize(2))
		tail, err := src.TailToken(ctx)
		if err != nil || !tail.IsZero() {
			t.Fatalf("tail of an empty log: %s, %v", tail, err)
		}
		mustAppend(t, st, 0, "a/1", "a/2")
		mustAppend(t, st, 1, "b/1")
		clock.Advance(time.Minute)
		mustAppend(t, st, 0, "a/3")

		head, _ := src.HeadToken(ctx)
		if want := processor.NewToken(processor.Position{Offset: 3}, processor.Position{Partition: 1, Offset: 1}); !head.Equal(want) {
			t.Fatalf("head %s, want %s", head, want)
		}
		at, _ := src.TokenAt(ctx, epoch.Add(time.Second))
		if want := processor.NewToken(processor.Position{Offset: 2}, processor.Position{Partition: 1, Offset: 1}); !at.Equal(want) {
			t.Fatalf("token at a time between the appends: %s, want %s", at, want)
		}

		stream, err := src.Open(ctx, processor.Token{})
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		got := drain(t, stream, 4)
		byPartition := map[int][]string{}
		for _, e := range got {
			byPartition[e.Position.Partition] = append(byPartition[e.Position.Partition], e.Key+string(e.Data[1:]))
			if e.Type != "test" || e.Timestamp.IsZero() {
				t.Errorf("event %s: type %q, timestamp %v: the decoder's type and the append time should be set", e.Position, e.Type, e.Timestamp)
			}
		}
		if strings.Join(byPartition[0], ",") != "a/1,a/2,a/3" || strings.Join(byPartition[1], ",") != "b/1" {
			t.Fatalf("read %v, want partition 0 a/1,a/2,a/3 and partition 1 b/1, in order", byPartition)
		}
		if got[len(got)-1].Timestamp.Before(epoch.Add(time.Minute)) && got[len(got)-1].Key == "a" {
			t.Errorf("a/3 was appended a minute later; its timestamp is %v", got[len(got)-1].Timestamp)
		}
		checkEmpty(t, stream)

		// Opening at a token resumes after it.
		resumed, err := src.Open(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		defer resumed.Close()
		if evs := drain(t, resumed, 1); string(evs[0].Data) != "a/3" {
			t.Fatalf("resumed at %s: %q, want a/3", at, evs[0].Data)
		}
		if _, err := src.Open(ctx, processor.NewToken(processor.Position{Stream: "x", Offset: 1})); err == nil {
			t.Fatal("opening the log at a token naming stream x: no error")
		}
	})
}

func TestLogSourceDecodeError(t *testing.T) {
	st := backends[0].fresh(t, storage.WithPartitions(1))
	mustAppend(t, st, 0, "a/1", "no key here")
	stream, err := logSource(st).Open(context.Background(), processor.Token{})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []processor.Event
	for {
		evs, err := stream.Next(ctx, -1)
		got = append(got, evs...)
		if err != nil {
			if !strings.Contains(err.Error(), "log partition 0 position 2") || !strings.Contains(err.Error(), "has no key") {
				t.Fatalf("decode error %q should name the partition, the position and the decoder's complaint", err)
			}
			break
		}
	}
	if len(got) != 1 || string(got[0].Data) != "a/1" {
		t.Fatalf("events before the bad entry: %d, want a/1 only", len(got))
	}
}

func mustAppend(t testing.TB, st *storage.Store, partition int, records ...string) {
	t.Helper()
	data := make([][]byte, len(records))
	for i, r := range records {
		data[i] = []byte(r)
	}
	if _, err := st.Append(context.Background(), partition, 0, data...); err != nil {
		t.Fatalf("append to partition %d: %v", partition, err)
	}
}

func TestMultiSource(t *testing.T) {
	clock := fakeclock.New(epoch)
	a := processor.NewMemorySource(1, clock.Now)
	b := processor.NewMemorySource(2, clock.Now)
	// Interleaved in time: a1 b1 a2 b2.
	a.Append(0, processor.Event{Key: "a1", Timestamp: epoch.Add(1)})
	b.Append(1, processor.Event{Key: "b1", Timestamp: epoch.Add(2)})
	a.Append(0, processor.Event{Key: "a2", Timestamp: epoch.Add(3)})
	b.Append(1, processor.Event{Key: "b2", Timestamp: epoch.Add(4)})
	multi, err := processor.NewMultiSource([]processor.NamedSource{processor.Named("a", a), processor.Named("b", b)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := multi.Open(ctx, processor.Token{})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, st, 4)
	st.Close()
	if k := keysOf(got); k != "a1 b1 a2 b2" {
		t.Fatalf("merged order %q, want oldest first: a1 b1 a2 b2", k)
	}
	if got[1].Position != (processor.Position{Stream: "b", Partition: 1, Offset: 1}) {
		t.Fatalf("b1 is at %s, want stream b partition 1 offset 1", got[1].Position)
	}
	// Each source keeps its own part of the token.
	after := processor.NewToken(got[0].Position, got[1].Position)
	head, _ := multi.HeadToken(ctx)
	if want := processor.NewToken(processor.Position{Stream: "a", Offset: 2}, processor.Position{Stream: "b", Partition: 1, Offset: 2}); !head.Equal(want) {
		t.Fatalf("head %s, want %s", head, want)
	}
	st, err = multi.Open(ctx, after)
	if err != nil {
		t.Fatal(err)
	}
	if k := keysOf(drain(t, st, 2)); k != "a2 b2" {
		t.Fatalf("after %s: %q, want a2 b2", after, k)
	}
	st.Close()

	// A comparator can prefer a source.
	bFirst, _ := processor.NewMultiSource([]processor.NamedSource{processor.Named("a", a), processor.Named("b", b)},
		processor.WithComparator(func(x, y *processor.Event) bool { return x.Position.Stream == "b" && y.Position.Stream != "b" }))
	st, _ = bFirst.Open(ctx, processor.Token{})
	if k := keysOf(drain(t, st, 4)); k != "b1 b2 a1 a2" {
		t.Fatalf("b preferred: %q, want b1 b2 a1 a2", k)
	}
	st.Close()

	if _, err := multi.Open(ctx, processor.NewToken(processor.Position{Stream: "c", Offset: 1})); err == nil {
		t.Fatal("opening at a token of an unknown source c: no error")
	}
	for _, bad := range [][]processor.NamedSource{nil, {processor.Named("a/b", a)}, {processor.Named("a", a), processor.Named("a", b)}} {
		if _, err := processor.NewMultiSource(bad); err == nil {
			t.Errorf("NewMultiSource(%v): no error", bad)
		}
	}
	if _, err := processor.NewMultiSource([]processor.NamedSource{processor.Named("a", a)}, processor.WithLongPolling("zz")); err == nil {
		t.Error("WithLongPolling of an unknown source: no error")
	}
}

// A waiting multi-stream wakes for events of the long-polling source and,
// every poll interval, finds those of the others.
func TestMultiSourceWaits(t *testing.T) {
	a := processor.NewMemorySource(1, nil)
	b := processor.NewMemorySource(1, nil)
	multi, err := processor.NewMultiSource([]processor.NamedSource{processor.Named("a", a), processor.Named("b", b)},
		processor.WithLongPolling("a"), processor.WithPollInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := multi.Open(context.Background(), processor.Token{})
	defer st.Close()
	for _, tc := range []struct {
		src *processor.MemorySource
		key string
	}{{a, "from-a"}, {b, "from-b"}} {
		result := make(chan []processor.Event)
		go func() { result <- drain(t, st, 1) }()
		tc.src.Append(0, processor.Event{Key: tc.key})
		if got := <-result; len(got) != 1 || got[0].Key != tc.key {
			t.Fatalf("woken with %v, want %s", keysOf(got), tc.key)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.Next(ctx, -1); !errors.Is(err, context.Canceled) {
		t.Fatalf("next with a cancelled context: %v", err)
	}
}

func keysOf(evs []processor.Event) string {
	ks := make([]string, len(evs))
	for i, e := range evs {
		ks[i] = e.Key
	}
	return strings.Join(ks, " ")
}

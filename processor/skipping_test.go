package processor_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"eddy/processor"
	"eddy/storage"
)

// skippingSource streams a MemorySource without the events whose data
// starts with "skip", as a source that filters for its processor does.
type skippingSource struct{ *processor.MemorySource }

func (s skippingSource) Open(ctx context.Context, after processor.Token) (processor.Stream, error) {
	st, err := s.MemorySource.Open(ctx, after)
	if err != nil {
		return nil, err
	}
	return &skippingStream{Stream: st, read: after}, nil
}

type skippingStream struct {
	processor.Stream
	read processor.Token
}

func (s *skippingStream) Next(ctx context.Context, wait time.Duration) ([]processor.Event, error) {
	evs, err := s.Stream.Next(ctx, wait)
	kept := evs[:0]
	for _, e := range evs {
		s.read = s.read.With(e.Position)
		if !strings.HasPrefix(string(e.Data), "skip") {
			kept = append(kept, e)
		}
	}
	return kept, err
}

func (s *skippingStream) ReadUpTo() processor.Token { return s.read }

// A stream that skips events moves the processor's tokens past them: the
// handler never sees them, the lag comes to 0 though the log ends with
// skipped events, and a restart hands nothing over again.
func TestSkippingStreamMovesTokensPastSkippedEvents(t *testing.T) {
	for _, mode := range []processor.Mode{processor.Pooled, processor.Tracking} {
		t.Run(mode.String(), func(t *testing.T) {
			st := backends[0].fresh(t)
			mem := processor.NewMemorySource(2, nil)
			src := skippingSource{mem}
			rec := newRecorder()
			opts := []processor.Opt{processor.WithMode(mode), processor.WithInitialSegments(4), processor.WithThreads(4), processor.WithClaimInterval(10 * time.Millisecond)}
			p := newProcessor(t, "skipping", st, src, rec, opts...)
			start(t, p)
			want := 0
			for i := range 40 {
				data := "keep"
				if i%3 != 0 || i >= 35 {
					data = "skip"
				} else {
					want++
				}
				mem.Append(i%2, processor.Event{Key: string(rune('a' + i%5)), Data: []byte(data)})
			}
			waitFor(t, "the processor to catch up past the skipped events", func() bool { return caughtUp(t, p) && rec.distinct() == want })
			for _, d := range rec.snapshot() {
				if d.data != "keep" {
					t.Fatalf("handled a skipped event at %s", d.pos)
				}
			}
			rec.checkExactlyOnce(t, want)
			stop(t, p)

			again := newRecorder()
			p = newProcessor(t, "skipping", st, src, again, opts...)
			start(t, p)
			mem.Append(0, processor.Event{Key: "z", Data: []byte("keep")})
			waitFor(t, "the restarted processor to catch up", func() bool { return caughtUp(t, p) && again.distinct() >= 1 })
			again.checkExactlyOnce(t, 1)
		})
	}
}

// trickleSource hands out its stream's events one per Next, skipping as
// skippingSource does, and its Next(-1) waits for news only: what is left
// unread does not wake it, as with a source woken by appends.
type trickleSource struct{ *processor.MemorySource }

func (s trickleSource) Open(ctx context.Context, after processor.Token) (processor.Stream, error) {
	st, err := s.MemorySource.Open(ctx, after)
	if err != nil {
		return nil, err
	}
	return &trickleStream{inner: st, read: after}, nil
}

type trickleStream struct {
	inner processor.Stream
	buf   []processor.Event
	read  processor.Token
}

func (s *trickleStream) Next(ctx context.Context, wait time.Duration) ([]processor.Event, error) {
	if wait != 0 {
		<-ctx.Done() // no appends come in this test
		return nil, ctx.Err()
	}
	if len(s.buf) == 0 {
		evs, err := s.inner.Next(ctx, 0)
		if err != nil {
			return nil, err
		}
		s.buf = evs
	}
	if len(s.buf) == 0 {
		return nil, nil
	}
	e := s.buf[0]
	s.buf = s.buf[1:]
	s.read = s.read.With(e.Position)
	if strings.HasPrefix(string(e.Data), "skip") {
		return nil, nil
	}
	return []processor.Event{e}, nil
}

func (s *trickleStream) Close() error              { return s.inner.Close() }
func (s *trickleStream) ReadUpTo() processor.Token { return s.read }

// A stream that returns nothing because it skipped is read on at once, not
// taken as caught up: the event after the skipped ones is handled though
// no news comes to wake the stream.
func TestSkippingStreamIsReadOnAfterSkipping(t *testing.T) {
	st := backends[0].fresh(t)
	mem := processor.NewMemorySource(1, nil)
	for _, data := range []string{"skip", "skip", "skip", "keep"} {
		mem.Append(0, processor.Event{Key: "k", Data: []byte(data)})
	}
	rec := newRecorder()
	p := newProcessor(t, "trickle", st, trickleSource{mem}, rec, processor.WithMode(processor.Tracking), processor.WithClaimInterval(10*time.Millisecond))
	start(t, p)
	waitFor(t, "the event after the skipped ones", func() bool { return rec.distinct() == 1 })
	stop(t, p)
}

// decodeKept is decodeRecord that leaves out records of key "skip".
func decodeKept(p int, e storage.Entry) (processor.Event, error) {
	if bytes.HasPrefix(e.Data, []byte("skip/")) {
		return processor.Event{}, processor.ErrSkipEntry
	}
	return decodeRecord(p, e)
}

// A log source whose decoder leaves entries out is a skipping stream: it
// returns only the kept events, its ReadUpTo covers what it left out, and
// never an entry it could not decode.
func TestLogSourceLeavesOutSkippedEntries(t *testing.T) {
	st := backends[0].fresh(t, storage.WithPartitions(2))
	mustAppend(t, st, 0, "skip/1", "a/1", "skip/2")
	mustAppend(t, st, 1, "skip/3", "skip/4")
	src := processor.NewLogSource(st, processor.WithDecoder(decodeKept))
	stream, err := src.Open(context.Background(), processor.Token{})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	skipper, ok := stream.(processor.SkippingStream)
	if !ok {
		t.Fatal("the log stream is not a SkippingStream")
	}
	want := processor.NewToken(processor.Position{Offset: 3}, processor.Position{Partition: 1, Offset: 2})
	var got []processor.Event
	waitFor(t, "the stream to read past every entry", func() bool {
		evs, err := stream.Next(context.Background(), 10*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, evs...)
		return skipper.ReadUpTo().Equal(want)
	})
	if len(got) != 1 || string(got[0].Data) != "a/1" {
		t.Fatalf("returned %v, want a/1 only", got)
	}

	// An entry that fails to decode after skipped ones: the stream reads
	// up to the skipped ones, not past the bad one.
	mustAppend(t, st, 1, "skip/5", "no key here")
	for {
		_, err := stream.Next(context.Background(), time.Second)
		if err != nil {
			break
		}
	}
	if up := skipper.ReadUpTo(); up.Offset("", 1) != 3 {
		t.Fatalf("read up to %s after a bad entry at partition 1 position 4, want partition 1 at 3", up)
	}
}

// A processor over the log passes over entries its decoder leaves out
// without committing its token for them each time: while only such entries
// arrive, the store sees the appends and not a token commit after each
// read. Its lag still comes to 0, and a restart hands nothing over again.
func TestProcessorPassesOverSkippedLogEntries(t *testing.T) {
	st := backends[0].fresh(t, storage.WithPartitions(2))
	src := processor.NewLogSource(st, processor.WithDecoder(decodeKept))
	rec := newRecorder()
	opts := []processor.Opt{processor.WithMode(processor.Tracking), processor.WithInitialToken(processor.FromTail())}
	p := newProcessor(t, "passing", st, src, rec, opts...)
	start(t, p)
	mustAppend(t, st, 0, "a/1")
	waitFor(t, "the kept event", func() bool { return caughtUp(t, p) && rec.distinct() == 1 })

	before := st.Metrics().Groups.Load()
	const appends = 100
	for i := range appends {
		mustAppend(t, st, i%2, "skip/"+strconv.Itoa(i))
		// Let the processor read each append on its own, as it would at
		// a steady pace.
		waitFor(t, "the processor to read the append", func() bool { return caughtUp(t, p) })
	}
	if commits := st.Metrics().Groups.Load() - before - appends; commits > 2 {
		t.Fatalf("%d commits beyond the %d appends: the token was committed for skipped entries", commits, appends)
	}
	stop(t, p)
	rec.checkExactlyOnce(t, 1)

	again := newRecorder()
	p = newProcessor(t, "passing", st, src, again, opts...)
	start(t, p)
	mustAppend(t, st, 1, "b/1")
	waitFor(t, "the restarted processor", func() bool { return caughtUp(t, p) && again.distinct() == 1 })
	for _, d := range again.snapshot() {
		if d.data != "b/1" {
			t.Fatalf("the restarted processor handled %q again", d.data)
		}
	}
}

package broker

import (
	"bytes"
	"context"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"eddy/cloudevents"
	"eddy/processor"
	"eddy/record"
	"eddy/storage"
)

// headOf returns the log's last position per partition.
func headOf(t *testing.T, env *testEnv) []uint64 {
	t.Helper()
	out := make([]uint64, env.store.Partitions())
	for p := range out {
		b, err := env.store.Bounds(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = b.Last
	}
	return out
}

// readAll reads partition p of l from after up to position to, in reads
// of limit events, and returns the positions of the CloudEvents it got.
func readAll(t *testing.T, l *eventLog, p int, after, to uint64, limit int) []uint64 {
	t.Helper()
	var out []uint64
	for after < to {
		evs, upTo, err := l.read(context.Background(), p, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if upTo <= after && len(evs) == 0 {
			t.Fatalf("partition %d: a read after %d moved nothing on the way to %d", p, after, to)
		}
		for _, e := range evs {
			if e.position <= after || e.position > upTo {
				t.Fatalf("partition %d: a read after %d up to %d returned position %d", p, after, upTo, e.position)
			}
			out = append(out, e.position)
		}
		after = upTo
	}
	return out
}

// Wherever a reader starts, and whether the window or the store serves
// it, it gets the same CloudEvents in log order and skips the rest.
func TestEventLogReadsTheSameFromWindowAndStore(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	env.deploy("tickets-catch-event.bpmn") // engine records between the events
	l := env.b.hub.log
	l.windowEvents = 4
	if err := l.acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer l.release()
	start := l.readPositions()
	var sent []cloudevents.Event
	for i := range 30 {
		sent = append(sent, event("t", strconv.Itoa(i), "correlationkey", strconv.Itoa(i%7)))
	}
	env.send(sent[:10]...)
	env.deploy("tickets-catch-event.bpmn")
	env.send(sent[10:]...)
	head := headOf(t, env)
	eventually(t, "the log reader to reach the head", func() bool {
		read := l.readPositions()
		for p := range read {
			if read[p] < head[p] {
				return false
			}
		}
		return true
	})
	// What the store has, every entry decoded.
	want := map[int][]uint64{}
	var logged int
	for p := range head {
		evs, _, err := l.readStore(context.Background(), p, 0, 0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			want[p] = append(want[p], e.position)
		}
		logged += len(evs)
	}
	if logged != len(sent) {
		t.Fatalf("%d CloudEvents on the log, want %d", logged, len(sent))
	}
	for p := range head {
		l.parts[p].mu.Lock()
		floor, kept := l.parts[p].floor, len(l.parts[p].events)
		l.parts[p].mu.Unlock()
		if kept > l.windowEvents || floor <= start[p] {
			t.Fatalf("partition %d keeps %d events above %d: the window is not bounded to %d", p, kept, floor, l.windowEvents)
		}
		for _, after := range []uint64{0, start[p], floor - 1, floor, floor + 1, head[p] - 1} {
			var expect []uint64
			for _, pos := range want[p] {
				if pos > after {
					expect = append(expect, pos)
				}
			}
			for _, limit := range []int{1, 3, 1000} {
				got := readAll(t, l, p, after, head[p], limit)
				if !slices.Equal(got, expect) {
					t.Errorf("partition %d after %d (floor %d), %d at a time: %v, want %v", p, after, floor, limit, got, expect)
				}
			}
		}
	}
}

// A trigger's stream hands over only what its filter matches, from the
// store and then the window, and says it read past everything else.
func TestTriggerStreamSkipsWhatItsFilterDoesNotMatch(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	l := env.b.hub.log
	l.windowEvents = 2
	var want []string
	send := func(from, to int) {
		for i := from; i < to; i++ {
			typ := "other"
			if i%4 == 0 {
				typ = "wanted"
				want = append(want, strconv.Itoa(i))
			}
			env.send(event(typ, strconv.Itoa(i), "correlationkey", strconv.Itoa(i)))
		}
	}
	// Half the events come before the stream opens (the store has them),
	// half after (the window has the last of them).
	send(0, 20)
	src := newTriggerSource(l, env.store, func(e *cloudevents.Event) bool { return e.Type == "wanted" })
	st, err := src.Open(t.Context(), processor.Token{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	send(20, 40)
	head, err := src.HeadToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	skipper := st.(processor.SkippingStream)
	var got []string
	last := map[int]uint64{}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for !skipper.ReadUpTo().CoversToken(head) {
		evs, err := st.Next(ctx, -1)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		for _, e := range evs {
			ce := e.Value.(*cloudevents.Event)
			if ce.Type != "wanted" || e.Key != orderKey(e.Position.Partition, ce) {
				t.Fatalf("the stream handed over %s with key %q", ce.Type, e.Key)
			}
			if e.Position.Offset <= last[e.Position.Partition] || !skipper.ReadUpTo().Covers(e.Position) {
				t.Fatalf("event at %s out of order or beyond what the stream says it read", e.Position)
			}
			last[e.Position.Partition] = e.Position.Offset
			got = append(got, ce.ID)
		}
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("event %s handed over twice", id)
		}
		seen[id] = true
	}
	if len(got) != len(want) {
		t.Fatalf("handed over %v, want %v", got, want)
	}
	if !head.CoversToken(skipper.ReadUpTo()) {
		t.Fatalf("the stream says it read up to %s, beyond the head %s", skipper.ReadUpTo(), head)
	}
}

// The window's byte bound counts what its events really hold: for events
// of several shapes, each JSON-encoded as a live subscriber would ask, the
// heap they take is within a margin of what footprint counts for them.
func TestWindowFootprint(t *testing.T) {
	binary := event("bench.binary", "x")
	binary.DataContentType = "application/octet-stream"
	binary.Data = bytes.Repeat([]byte{0xA5}, 4096)
	extended := event("order.placed", "x", "correlationkey", "customer-12345", "processinstancekey", "2251799813685249",
		"bpmnactivityid", "Activity_Emit", "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	large := event("doc.stored", "x")
	large.Data = []byte(`{"text":"` + strings.Repeat("lorem ipsum ", 5000) + `"}`)
	for name, e := range map[string]cloudevents.Event{
		"small": event("ticket.requested", "x"), "binary 4 KiB": binary, "extensions": extended, "JSON 60 KB": large,
	} {
		t.Run(name, func(t *testing.T) {
			n := min(2000, 16<<20/len(e.Data)) // some MiB of events
			entries := make([]storage.Entry, n)
			for i := range entries {
				e.ID = "id-" + strconv.Itoa(i)
				r := record.Record{Kind: record.Event, ValueType: record.CloudEvent, Intent: record.Published, Key: int64(i + 1),
					Value: record.Value{Event: cloudevents.Marshal(&e)}}
				entries[i] = storage.Entry{Position: uint64(i + 1), Timestamp: 1, Data: record.Append(nil, &r)}
			}
			before := heapInUse()
			events := make([]*logEvent, n)
			counted := 0
			for i, entry := range entries {
				le, err := newLogEvent(0, entry)
				if err != nil {
					t.Fatal(err)
				}
				le.JSON()
				events[i] = le
				counted += le.size
			}
			held := heapInUse() - before
			runtime.KeepAlive(events)
			runtime.KeepAlive(entries)
			ratio := float64(held) / float64(counted)
			t.Logf("%d events hold %d bytes, counted %d (%.2f)", n, held, counted, ratio)
			if ratio < 0.6 || ratio > 1.2 {
				t.Fatalf("the events hold %d bytes and are counted as %d: the estimate is off by %.2f×", held, counted, ratio)
			}
		})
	}
}

// heapInUse is the live heap after a full collection.
func heapInUse() int {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int(m.HeapAlloc)
}

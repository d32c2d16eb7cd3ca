package broker

import (
	"context"
	"fmt"
	"time"

	"eddy/cloudevents"
	"eddy/processor"
	"eddy/storage"
)

// triggerSource is a trigger processor's source: the node's shared
// eventLog, filtered by the trigger. The processor gets only the events
// the trigger delivers; its tokens move past the others, and past the
// engine's records, without handling them (processor.SkippingStream).
type triggerSource struct {
	log   *eventLog
	match func(*cloudevents.Event) bool
	// bounds answers for the log's tail, head and times.
	bounds *processor.LogSource
}

func newTriggerSource(log *eventLog, store *storage.Store, match func(*cloudevents.Event) bool) *triggerSource {
	return &triggerSource{log: log, match: match, bounds: processor.NewLogSource(store)}
}

// TailToken implements processor.Source.
func (s *triggerSource) TailToken(ctx context.Context) (processor.Token, error) {
	return s.bounds.TailToken(ctx)
}

// HeadToken implements processor.Source.
func (s *triggerSource) HeadToken(ctx context.Context) (processor.Token, error) {
	return s.bounds.HeadToken(ctx)
}

// TokenAt implements processor.Source.
func (s *triggerSource) TokenAt(ctx context.Context, t time.Time) (processor.Token, error) {
	return s.bounds.TokenAt(ctx, t)
}

// Open implements processor.Source.
func (s *triggerSource) Open(ctx context.Context, after processor.Token) (processor.Stream, error) {
	n := s.log.partitions()
	pos := make([]uint64, n)
	for _, p := range after.Positions() {
		if p.Stream != "" || p.Partition >= n {
			return nil, fmt.Errorf("broker: token %s does not fit the log: it names %s, the log has partitions 0-%d", after, p, n-1)
		}
		pos[p.Partition] = p.Offset
	}
	if err := s.log.acquire(ctx); err != nil {
		return nil, fmt.Errorf("broker: reading the log: %w", err)
	}
	return &triggerStream{src: s, after: pos, lastReturn: time.Now()}, nil
}

// triggerReadBatch bounds the events one Next looks at.
const triggerReadBatch = 1000

// progressInterval is how often, at most, a stream that skips everything
// it reads tells its processor how far it got: often enough for the lag
// to come back to 0 soon, rarely enough not to wake every segment of every
// trigger at each append.
const progressInterval = 100 * time.Millisecond

type triggerStream struct {
	src *triggerSource
	// after is, per partition, the position read up to.
	after      []uint64
	first      int // the partition the next poll starts at, in turn
	lastReturn time.Time
	closed     bool
}

// Next implements processor.Stream: the trigger's events after the
// stream's position, as soon as there are some. When everything it read
// was skipped, it returns no events once it has read further and
// progressInterval has passed since it last returned.
func (st *triggerStream) Next(ctx context.Context, wait time.Duration) ([]processor.Event, error) {
	var timeout, progress <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		changed := st.src.log.changes()
		evs, moved, err := st.poll(ctx)
		if err != nil || len(evs) > 0 || wait == 0 {
			st.lastReturn = time.Now()
			return evs, err
		}
		if moved && progress == nil {
			left := progressInterval - time.Since(st.lastReturn)
			if left <= 0 {
				st.lastReturn = time.Now()
				return nil, nil
			}
			t := time.NewTimer(left)
			defer t.Stop()
			progress = t.C
		}
		select {
		case <-changed:
		case <-progress:
			st.lastReturn = time.Now()
			return nil, nil
		case <-timeout:
			st.lastReturn = time.Now()
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// poll reads what is there now, each partition in turn, and keeps the
// events the trigger's filter matches; moved says whether the stream read
// further.
func (st *triggerStream) poll(ctx context.Context) (out []processor.Event, moved bool, err error) {
	n := len(st.after)
	budget := triggerReadBatch
	for i := range n {
		p := (st.first + i) % n
		evs, upTo, err := st.src.log.read(ctx, p, st.after[p], budget)
		if err != nil {
			// The stream ends here; the processor opens another where the
			// events it took end.
			return nil, false, err
		}
		for _, e := range evs {
			if st.src.match(e.event) {
				out = append(out, processor.Event{
					Position:  processor.Position{Partition: p, Offset: e.position},
					Key:       e.key,
					Type:      e.event.Type,
					Timestamp: time.UnixMilli(e.timestamp),
					Data:      e.data,
					Value:     e.event,
				})
			}
		}
		if upTo > st.after[p] {
			st.after[p], moved = upTo, true
		}
		if budget -= len(evs); budget <= 0 {
			break
		}
	}
	st.first = (st.first + 1) % n
	return out, moved, nil
}

// ReadUpTo implements processor.SkippingStream.
func (st *triggerStream) ReadUpTo() processor.Token {
	pos := make([]processor.Position, len(st.after))
	for p, off := range st.after {
		pos[p] = processor.Position{Partition: p, Offset: off}
	}
	return processor.NewToken(pos...)
}

// Close implements processor.Stream.
func (st *triggerStream) Close() error {
	if !st.closed {
		st.closed = true
		st.src.log.release()
	}
	return nil
}

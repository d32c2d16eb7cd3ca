package processor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"eddy/storage"
)

// Decoder turns a log entry into an event. The log's record format belongs to
// whoever writes the log (the engine), so the log source asks. e.Data is a
// copy the decoder may keep. The source sets Position, and Timestamp when the
// decoder leaves it zero. A decoder that returns ErrSkipEntry leaves the
// entry out.
type Decoder func(partition int, e storage.Entry) (Event, error)

// ErrSkipEntry, returned by a Decoder, leaves an entry out of the stream: the
// handler never sees it and tokens move past it. A processor that passes
// over most of the log so commits a token only when its claim needs
// extending, not after every read. The decoder must not keep e.Data.
var ErrSkipEntry = errors.New("processor: entry left out")

// RawDecoder is the default decoder: the entry's bytes become the payload;
// the event has no key, type or metadata.
func RawDecoder(_ int, e storage.Entry) (Event, error) { return Event{Data: e.Data}, nil }

// LogSource streams Eddy's log. Its token holds one position per partition:
// the last position read there.
type LogSource struct {
	store    *storage.Store
	decode   Decoder
	readSize int
}

// LogOpt configures a LogSource.
type LogOpt func(*LogSource)

// WithDecoder sets how entries become events (RawDecoder by default).
func WithDecoder(d Decoder) LogOpt { return func(s *LogSource) { s.decode = d } }

// WithReadSize sets how many entries one read of a partition takes (1000 by
// default): larger reads cost fewer round trips, smaller ones less memory.
func WithReadSize(n int) LogOpt { return func(s *LogSource) { s.readSize = max(1, n) } }

// NewLogSource returns a source over store's log, all partitions.
func NewLogSource(store *storage.Store, opts ...LogOpt) *LogSource {
	s := &LogSource{store: store, decode: RawDecoder, readSize: 1000}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// TailToken implements Source: before the first entry of every partition.
func (s *LogSource) TailToken(ctx context.Context) (Token, error) {
	return s.perPartition(ctx, func(p int, b storage.Bounds) (uint64, error) {
		if b.Empty() || b.First <= 1 {
			return 0, nil
		}
		return b.First - 1, nil
	})
}

// HeadToken implements Source: after the last entry of every partition.
func (s *LogSource) HeadToken(ctx context.Context) (Token, error) {
	return s.perPartition(ctx, func(p int, b storage.Bounds) (uint64, error) { return b.Last, nil })
}

// TokenAt implements Source through Store.SeekTime on every partition.
func (s *LogSource) TokenAt(ctx context.Context, t time.Time) (Token, error) {
	return s.perPartition(ctx, func(p int, _ storage.Bounds) (uint64, error) {
		pos, err := s.store.SeekTime(ctx, p, t)
		if err != nil || pos == 0 {
			return 0, err
		}
		return pos - 1, nil
	})
}

func (s *LogSource) perPartition(ctx context.Context, offset func(p int, b storage.Bounds) (uint64, error)) (Token, error) {
	var t Token
	for p := range s.store.Partitions() {
		b, err := s.store.Bounds(ctx, p)
		if err != nil {
			return Token{}, fmt.Errorf("processor: log partition %d: %w", p, err)
		}
		off, err := offset(p, b)
		if err != nil {
			return Token{}, fmt.Errorf("processor: log partition %d: %w", p, err)
		}
		t.raise(Position{Partition: p, Offset: off})
	}
	return t, nil
}

// Open implements Source: one reader per partition follows the log from the
// token on, waking on appends, and hands decoded batches to Next.
func (s *LogSource) Open(ctx context.Context, after Token) (Stream, error) {
	n := s.store.Partitions()
	for _, p := range after.pos {
		if p.Stream != "" || p.Partition >= n {
			return nil, fmt.Errorf("processor: token %s does not fit the log: it names %s, the log has partitions 0-%d and no named streams", after, p, n-1)
		}
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	st := &logStream{out: make(chan logBatch, 2*n), cancel: cancel, upTo: after.clone()}
	for p := range n {
		tail, err := s.store.Tail(p, after.Offset("", p)+1)
		if err != nil {
			cancel()
			return nil, err
		}
		st.readers.Add(1)
		go st.read(rctx, s, p, tail)
	}
	return st, nil
}

// logBatch is one read of a partition: the events it returns and, in upTo,
// the last position it read (events left out included).
type logBatch struct {
	events    []Event
	partition int
	upTo      uint64
	err       error
}

type logStream struct {
	out     chan logBatch
	cancel  context.CancelFunc
	readers sync.WaitGroup
	err     error
	// upTo covers every event taken or left out so far.
	upTo Token
}

// arenaSize is how many payload bytes one allocation holds: entries are
// copied out of storage's buffers into arenas rather than one by one.
const arenaSize = 256 << 10

func (st *logStream) read(ctx context.Context, s *LogSource, p int, tail *storage.Tail) {
	defer st.readers.Done()
	var arena []byte
	for {
		// Sized by what arrives: under a steady load a read returns one
		// commit's few entries, and a slice of readSize events each time
		// would be most of what the process allocates.
		var events []Event
		var upTo uint64
		_, err := tail.Next(ctx, s.readSize, func(e storage.Entry) error {
			if len(e.Data) > cap(arena)-len(arena) {
				arena = make([]byte, 0, max(arenaSize, len(e.Data)))
			}
			start := len(arena)
			arena = append(arena, e.Data...)
			e.Data = arena[start:len(arena):len(arena)]
			ev, err := s.decode(p, e)
			if errors.Is(err, ErrSkipEntry) {
				arena, upTo = arena[:start], e.Position
				return nil
			}
			if err != nil {
				return fmt.Errorf("processor: log partition %d position %d: decoding the entry: %w", p, e.Position, err)
			}
			ev.Position = Position{Partition: p, Offset: e.Position}
			if ev.Timestamp.IsZero() {
				ev.Timestamp = time.UnixMilli(e.Timestamp)
			}
			if events == nil {
				events = make([]Event, 0, min(s.readSize, 32))
			}
			events, upTo = append(events, ev), e.Position
			return nil
		})
		if upTo > 0 && !st.send(ctx, logBatch{events: events, partition: p, upTo: upTo}) {
			return
		}
		if err != nil {
			if ctx.Err() == nil {
				st.send(ctx, logBatch{err: err})
			}
			return
		}
	}
}

func (st *logStream) send(ctx context.Context, b logBatch) bool {
	select {
	case st.out <- b:
		return true
	case <-ctx.Done():
		return false
	}
}

// Next implements Stream.
func (st *logStream) Next(ctx context.Context, wait time.Duration) ([]Event, error) {
	if st.err != nil {
		return nil, st.err
	}
	select {
	case b := <-st.out:
		return st.take(b)
	default:
	}
	if wait == 0 {
		return nil, nil
	}
	wctx, cancel := waitContext(ctx, wait)
	defer cancel()
	select {
	case b := <-st.out:
		return st.take(b)
	case <-wctx.Done():
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, nil
	}
}

func (st *logStream) take(b logBatch) ([]Event, error) {
	if b.err != nil {
		st.err = b.err
	}
	if b.upTo > 0 {
		st.upTo.raise(Position{Partition: b.partition, Offset: b.upTo})
	}
	return b.events, b.err
}

// ReadUpTo implements SkippingStream.
func (st *logStream) ReadUpTo() Token { return st.upTo.clone() }

// Close implements Stream.
func (st *logStream) Close() error {
	st.cancel()
	st.readers.Wait()
	return nil
}

package processor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// NamedSource is one source of a MultiSource.
type NamedSource struct {
	Name   string
	Source Source
}

// Named names a source for NewMultiSource.
func Named(name string, src Source) NamedSource { return NamedSource{Name: name, Source: src} }

// MultiSource merges several named sources into one: several logs, a log and
// a Kafka topic. Its token keeps each source's token apart, under the
// source's name (an event of source "orders" is at stream "orders", or
// "orders/<stream>" when that source names its streams).
//
// When several sources have events ready, a comparator picks which goes
// first; the default takes the oldest timestamp (the event that has waited
// longest). While none has any, the stream waits on one long-polling source
// (the last one unless WithLongPolling says otherwise), checking the others
// every poll interval.
type MultiSource struct {
	sources  []NamedSource
	before   func(a, b *Event) bool
	longPoll int
	poll     time.Duration
}

// MultiOpt configures a MultiSource.
type MultiOpt func(*MultiSource) error

// WithComparator sets which of two ready events goes first: before(a, b)
// reports whether a must be handled before b.
func WithComparator(before func(a, b *Event) bool) MultiOpt {
	return func(m *MultiSource) error {
		if before == nil {
			return errors.New("processor: WithComparator(nil)")
		}
		m.before = before
		return nil
	}
}

// WithLongPolling names the source the stream waits on while none has
// events.
func WithLongPolling(name string) MultiOpt {
	return func(m *MultiSource) error {
		for i, s := range m.sources {
			if s.Name == name {
				m.longPoll = i
				return nil
			}
		}
		return fmt.Errorf("processor: WithLongPolling(%q): no source has that name", name)
	}
}

// WithPollInterval sets how often the other sources are checked while the
// stream waits on the long-polling one (100 ms by default).
func WithPollInterval(d time.Duration) MultiOpt {
	return func(m *MultiSource) error {
		if d <= 0 {
			return fmt.Errorf("processor: WithPollInterval(%v): must be positive", d)
		}
		m.poll = d
		return nil
	}
}

// OldestFirst is the default comparator: the event with the older timestamp
// goes first.
func OldestFirst(a, b *Event) bool { return a.Timestamp.Before(b.Timestamp) }

// NewMultiSource merges sources, which need distinct names without "/".
func NewMultiSource(sources []NamedSource, opts ...MultiOpt) (*MultiSource, error) {
	if len(sources) == 0 {
		return nil, errors.New("processor: a multi-source needs at least one source")
	}
	seen := map[string]bool{}
	for i, s := range sources {
		switch {
		case s.Name == "" || strings.Contains(s.Name, "/"):
			return nil, fmt.Errorf("processor: multi-source: source %d is named %q; names must be non-empty and without \"/\"", i, s.Name)
		case seen[s.Name]:
			return nil, fmt.Errorf("processor: multi-source: two sources are named %q", s.Name)
		case s.Source == nil:
			return nil, fmt.Errorf("processor: multi-source: source %q is nil", s.Name)
		}
		seen[s.Name] = true
	}
	m := &MultiSource{sources: sources, before: OldestFirst, longPoll: len(sources) - 1, poll: 100 * time.Millisecond}
	for _, opt := range opts {
		if err := opt(m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// subToken extracts the token of the source named name.
func subToken(t Token, name string) Token {
	var sub Token
	for _, p := range t.pos {
		switch {
		case p.Stream == name:
			p.Stream = ""
		case strings.HasPrefix(p.Stream, name+"/"):
			p.Stream = p.Stream[len(name)+1:]
		default:
			continue
		}
		sub.raise(p)
	}
	return sub
}

// qualify names p's stream after the source it came from.
func qualify(p Position, name string) Position {
	if p.Stream == "" {
		p.Stream = name
	} else {
		p.Stream = name + "/" + p.Stream
	}
	return p
}

func (m *MultiSource) combine(ctx context.Context, get func(Source) (Token, error)) (Token, error) {
	var t Token
	for _, s := range m.sources {
		sub, err := get(s.Source)
		if err != nil {
			return Token{}, fmt.Errorf("processor: multi-source %q: %w", s.Name, err)
		}
		for _, p := range sub.pos {
			t.raise(qualify(p, s.Name))
		}
	}
	return t, nil
}

// TailToken implements Source.
func (m *MultiSource) TailToken(ctx context.Context) (Token, error) {
	return m.combine(ctx, func(s Source) (Token, error) { return s.TailToken(ctx) })
}

// HeadToken implements Source.
func (m *MultiSource) HeadToken(ctx context.Context) (Token, error) {
	return m.combine(ctx, func(s Source) (Token, error) { return s.HeadToken(ctx) })
}

// TokenAt implements Source.
func (m *MultiSource) TokenAt(ctx context.Context, at time.Time) (Token, error) {
	return m.combine(ctx, func(s Source) (Token, error) { return s.TokenAt(ctx, at) })
}

// Open implements Source: every source opens at its part of the token.
func (m *MultiSource) Open(ctx context.Context, after Token) (Stream, error) {
	for _, p := range after.pos {
		if !m.names(p.Stream) {
			return nil, fmt.Errorf("processor: token %s does not fit the multi-source: no source is named after stream %q", after, p.Stream)
		}
	}
	ms := &multiStream{src: m, subs: make([]subStream, len(m.sources))}
	for i, s := range m.sources {
		st, err := s.Source.Open(ctx, subToken(after, s.Name))
		if err != nil {
			ms.Close()
			return nil, fmt.Errorf("processor: multi-source %q: %w", s.Name, err)
		}
		ms.subs[i] = subStream{name: s.Name, stream: st}
	}
	return ms, nil
}

func (m *MultiSource) names(stream string) bool {
	name, _, _ := strings.Cut(stream, "/")
	for _, s := range m.sources {
		if s.Name == name {
			return true
		}
	}
	return false
}

type subStream struct {
	name    string
	stream  Stream
	pending []Event
}

type multiStream struct {
	src  *MultiSource
	subs []subStream
}

// fill reads what each source has ready; the long-polling one may wait.
func (ms *multiStream) fill(ctx context.Context, wait time.Duration) error {
	for i := range ms.subs {
		s := &ms.subs[i]
		if len(s.pending) > 0 {
			continue
		}
		w := time.Duration(0)
		if i == ms.src.longPoll {
			w = wait
		}
		evs, err := s.stream.Next(ctx, w)
		if err != nil {
			return fmt.Errorf("processor: multi-source %q: %w", s.name, err)
		}
		for j := range evs {
			evs[j].Position = qualify(evs[j].Position, s.name)
		}
		s.pending = evs
	}
	return nil
}

func (ms *multiStream) ready() bool {
	for _, s := range ms.subs {
		if len(s.pending) > 0 {
			return true
		}
	}
	return false
}

// Next implements Stream: it merges what every source has ready, in the
// comparator's order, keeping each source's own order.
func (ms *multiStream) Next(ctx context.Context, wait time.Duration) ([]Event, error) {
	// Look at every source without waiting first: the long-polling one
	// waits only when none has anything.
	if err := ms.fill(ctx, 0); err != nil {
		return nil, err
	}
	var deadline time.Time
	if wait > 0 {
		deadline = time.Now().Add(wait)
	}
	for !ms.ready() && wait != 0 {
		w := ms.src.poll
		if wait > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				break
			}
			w = min(w, left)
		}
		if err := ms.fill(ctx, w); err != nil {
			return nil, err
		}
	}
	return ms.merge(), nil
}

func (ms *multiStream) merge() []Event {
	n := 0
	for _, s := range ms.subs {
		n += len(s.pending)
	}
	if n == 0 {
		return nil
	}
	out := make([]Event, 0, n)
	for {
		best := -1
		for i := range ms.subs {
			s := &ms.subs[i]
			if len(s.pending) == 0 {
				continue
			}
			if best < 0 || ms.src.before(&s.pending[0], &ms.subs[best].pending[0]) {
				best = i
			}
		}
		if best < 0 {
			return out
		}
		s := &ms.subs[best]
		out = append(out, s.pending[0])
		s.pending = s.pending[1:]
	}
}

// Close implements Stream.
func (ms *multiStream) Close() error {
	var errs []error
	for _, s := range ms.subs {
		if s.stream != nil {
			errs = append(errs, s.stream.Close())
		}
	}
	return errors.Join(errs...)
}

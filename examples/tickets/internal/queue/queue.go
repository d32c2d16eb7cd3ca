// Package queue is the tickets example's queue service: customers join a
// queue and are let out first come, first served, at a set rate, so that a
// rush of buyers reaches the tickets service at a pace it can serve.
//
// It emits Queue.CustomerJoined (which starts a TICKETS process instance),
// Queue.CustomerExited when a customer may go on to buy, and
// Queue.CustomerAbandoned when one leaves; the last two carry the session
// id as their correlation key, which is what the models wait on. It
// consumes Session.CleanUp (emitted by v3 when a customer abandons) to
// forget the customer.
//
// A customer joins once per session: joining again answers the customer's
// state and emits nothing, so a double click or a retried request cannot
// start a second purchase.
package queue

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
)

// Config tunes the queue.
type Config struct {
	// Rate is how many customers leave the queue per second; 0 lets them
	// out as fast as their events can be emitted.
	Rate float64
	// MaxBatch caps how many customers one emission lets out (default
	// 256): their Queue.CustomerExited events go in one batch request.
	MaxBatch int
	// Model is the model version deployed, which the instances that
	// joins start run: each join and exit says it (events.Customer).
	Model  string
	Logger *slog.Logger
}

// State is where a customer is.
type State string

// Customer states.
const (
	Joining   State = "joining" // Queue.CustomerJoined is being emitted
	Waiting   State = "waiting"
	Exited    State = "exited"
	Abandoned State = "abandoned"
)

type customer struct {
	session string
	state   State
	// joined is closed once Join's Queue.CustomerJoined is settled
	// (durable or failed): an abandon waits for it, so that its event
	// never reaches the broker ahead of the join's.
	joined chan struct{}
	// joinedAt is when Queue.CustomerJoined was emitted, as its time
	// says; only a restore reads it, to order the line again.
	joinedAt time.Time
	// cleanedUp is set, during a restore only, when the history holds a
	// Session.CleanUp for the customer.
	cleanedUp bool
	// model is the model version deployed when the customer joined.
	model string
}

// Service is the queue service. Its zero value is not usable: see New.
type Service struct {
	cfg Config
	pub *events.Publisher
	log *slog.Logger

	mu     sync.Mutex
	line   []*customer // in order of joining; line[head:] may still wait
	head   int
	byID   map[string]*customer
	counts map[State]int
	wake   chan struct{} // signalled when a customer starts waiting
	// unsaid is the model of the customers whose events say none
	// (SetUnsaidModel).
	unsaid string

	receiver *events.Receiver
}

// New returns a queue service that emits through pub. Call Run to let
// customers out.
func New(pub *events.Publisher, cfg Config) *Service {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, pub: pub, log: cfg.Logger, byID: map[string]*customer{}, counts: map[State]int{}, wake: make(chan struct{}, 1)}
	s.receiver = events.NewReceiver("queue", cfg.Logger)
	s.receiver.Handle(events.SessionCleanUp, s.onCleanUp)
	return s
}

// ErrUnknown is a session that never joined.
var ErrUnknown = errors.New("this session has not joined the queue")

// Status is a customer's place.
type Status struct {
	SessionID string `json:"sessionId"`
	State     State  `json:"state"`
	// Position is how many customers wait ahead (while waiting).
	Position int `json:"position"`
	// Model is the model version the customer joined under, which its
	// purchase runs under.
	Model string `json:"model,omitempty"`
}

// Join puts the session at the back of the queue once
// Queue.CustomerJoined is durable in the broker. A session that joined
// before gets its status and nothing is emitted.
func (s *Service) Join(ctx context.Context, session string) (Status, error) {
	s.mu.Lock()
	if c, ok := s.byID[session]; ok {
		st := s.statusLocked(c)
		s.mu.Unlock()
		return st, nil
	}
	c := &customer{session: session, state: Joining, joined: make(chan struct{}), model: s.cfg.Model}
	s.byID[session] = c
	ahead := s.counts[Waiting] + s.counts[Joining]
	s.counts[Joining]++
	s.mu.Unlock()

	err := s.pub.EmitDetached(ctx, events.Out{
		Type: events.QueueCustomerJoined, ID: "joined-" + session, SessionID: session, CorrelationKey: session,
		Data: events.Customer{SessionID: session, Position: ahead, Model: c.model},
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	defer close(c.joined)
	s.counts[Joining]--
	if err != nil {
		delete(s.byID, session)
		return Status{}, err
	}
	if c.state == Abandoned {
		// Its session was cleaned up while it joined: never in the line.
		return Status{SessionID: session, State: Abandoned, Model: c.model}, nil
	}
	c.state = Waiting
	s.counts[Waiting]++
	s.line = append(s.line, c)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return Status{SessionID: session, State: Waiting, Position: ahead, Model: c.model}, nil
}

// Abandon records that the customer left, once Queue.CustomerAbandoned is
// durable. Abandoning twice is harmless. A customer still joining is
// abandoned once the join is settled: the model must see the join first.
func (s *Service) Abandon(ctx context.Context, session string) (Status, error) {
	s.mu.Lock()
	c, ok := s.byID[session]
	s.mu.Unlock()
	if !ok {
		return Status{}, ErrUnknown
	}
	select {
	case <-c.joined:
	case <-ctx.Done():
		return Status{}, ctx.Err()
	}
	s.mu.Lock()
	if s.byID[session] != c {
		s.mu.Unlock()
		return Status{}, ErrUnknown // the join failed
	}
	if c.state == Abandoned {
		s.mu.Unlock()
		return Status{SessionID: session, State: Abandoned}, nil
	}
	s.mu.Unlock()
	err := s.pub.EmitDetached(ctx, events.Out{
		Type: events.QueueCustomerAbandoned, ID: "abandoned-" + session, SessionID: session, CorrelationKey: session,
		Data: events.Customer{SessionID: session},
	})
	if err != nil {
		return Status{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setState(c, Abandoned)
	return Status{SessionID: session, State: Abandoned}, nil
}

// Status returns the session's place.
func (s *Service) Status(session string) (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[session]
	if !ok {
		return Status{}, ErrUnknown
	}
	return s.statusLocked(c), nil
}

func (s *Service) statusLocked(c *customer) Status {
	st := Status{SessionID: c.session, State: c.state, Model: c.model}
	if c.state == Waiting {
		for _, o := range s.line[s.head:] {
			if o == c {
				break
			}
			if o.state == Waiting {
				st.Position++
			}
		}
	}
	return st
}

// Stats counts customers by state.
type Stats struct {
	Waiting   int `json:"waiting"`
	Exited    int `json:"exited"`
	Abandoned int `json:"abandoned"`
}

// Stats returns the current counts.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Waiting: s.counts[Waiting] + s.counts[Joining], Exited: s.counts[Exited], Abandoned: s.counts[Abandoned]}
}

// setState moves c to state; s.mu is held. Joining is not counted here.
func (s *Service) setState(c *customer, state State) {
	if c.state != Joining {
		s.counts[c.state]--
	}
	c.state = state
	s.counts[state]++
}

// onCleanUp takes out of the line a customer whose session v3 closed. The
// customer stays known, as abandoned, so that joining again with the same
// session starts nothing.
func (s *Service) onCleanUp(_ context.Context, e *cloudevents.Event) (*cloudevents.Event, error) {
	var d events.Customer
	if err := events.DecodeData(e, &d); err != nil {
		return nil, err
	}
	if d.SessionID == "" {
		return nil, events.Malformed("event %s %s: no sessionId in its data", e.Type, e.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.byID[d.SessionID]; ok && (c.state == Waiting || c.state == Joining) {
		// Out of the line without an exit: the purchase is over.
		s.setState(c, Abandoned)
	}
	return nil, nil
}

// Events is the handler Eddy's triggers deliver to.
func (s *Service) Events() *events.Receiver { return s.receiver }

// Run lets customers out until ctx ends: at Rate per second, in order, each
// batch only once its Queue.CustomerExited events are durable. An emission
// that fails is tried again with the same customers, so nobody is skipped
// or let out twice.
func (s *Service) Run(ctx context.Context) {
	var (
		meter  *pacer
		ticker *time.Ticker
	)
	if s.cfg.Rate > 0 {
		meter = newPacer(s.cfg.Rate, time.Now())
		ticker = time.NewTicker(meter.tick)
		defer ticker.Stop()
	}
	for {
		n := s.cfg.MaxBatch
		if meter != nil {
			select {
			case <-ctx.Done():
				return
			case now := <-ticker.C:
				n = meter.grant(now, n)
			}
			if n == 0 {
				continue
			}
		}
		batch := s.next(n)
		if len(batch) == 0 {
			if ticker == nil {
				select {
				case <-ctx.Done():
					return
				case <-s.wake:
				}
			}
			continue
		}
		if err := s.letOut(ctx, batch); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("queue: letting customers out failed; trying again", "customers", len(batch), "error", err)
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		if meter != nil {
			meter.spend(len(batch))
		}
	}
}

// next returns up to n customers waiting at the front of the line.
func (s *Service) next(n int) []*customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.head < len(s.line) && s.line[s.head].state != Waiting {
		s.line[s.head] = nil
		s.head++
	}
	if s.head > 4096 && 2*s.head > len(s.line) {
		s.line = append([]*customer(nil), s.line[s.head:]...)
		s.head = 0
	}
	var out []*customer
	for _, c := range s.line[s.head:] {
		if len(out) == n {
			break
		}
		if c.state == Waiting {
			out = append(out, c)
		}
	}
	return out
}

// letOut emits the batch's exits and marks them exited.
func (s *Service) letOut(ctx context.Context, batch []*customer) error {
	outs := make([]events.Out, len(batch))
	for i, c := range batch {
		outs[i] = events.Out{
			Type: events.QueueCustomerExited, ID: "exited-" + c.session, SessionID: c.session, CorrelationKey: c.session,
			Data: events.Customer{SessionID: c.session, Model: c.model},
		}
	}
	if err := s.pub.Emit(ctx, outs...); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range batch {
		// A customer who abandoned meanwhile stays abandoned.
		if c.state == Waiting {
			s.setState(c, Exited)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

package queue

import (
	"cmp"
	"slices"
	"time"

	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
)

// The queue's state is the history of its events on Eddy's log: at start,
// before it serves anything, the service is handed that history (Restore,
// one event at a time, then Restored), so that a restart keeps the line
// and lets nobody in twice. A replay reads the log in order only within
// each partition, so each event moves a customer forward and never back:
// waiting, then exited, and abandoned over both (a customer who abandoned
// stays abandoned, whatever the order the two came in).

// Session.CleanUp takes out of the line a customer still waiting, as the
// live handler does, and leaves one who exited as it is; which of the two
// the customer is, only the whole history says, so the clean-up is noted
// and applied in Restored.

// restoreRank orders the states a customer goes through.
func restoreRank(s State) int {
	switch s {
	case Waiting:
		return 0
	case Exited:
		return 1
	}
	return 2 // abandoned
}

// Restore applies one event of the log's history; events that do not
// concern the queue are ignored. The service must not serve yet.
func (s *Service) Restore(e *cloudevents.Event) error {
	var st State
	switch {
	case e.Type == events.SessionCleanUp:
		st = Waiting // and cleanedUp, below
	case e.Source != s.pub.Source():
		return nil
	case e.Type == events.QueueCustomerJoined:
		st = Waiting
	case e.Type == events.QueueCustomerExited:
		st = Exited
	case e.Type == events.QueueCustomerAbandoned:
		st = Abandoned
	default:
		return nil
	}
	var d events.Customer
	if err := events.DecodeData(e, &d); err != nil {
		return err
	}
	if d.SessionID == "" {
		return events.Malformed("event %s %s: no sessionId in its data", e.Type, e.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.byID[d.SessionID]
	if c == nil {
		// A Session.CleanUp may come before its join: the instance it
		// ends was started by the join, which is on the log too.
		c = &customer{session: d.SessionID, state: st, joined: make(chan struct{})}
		close(c.joined)
		s.byID[d.SessionID] = c
	} else if restoreRank(st) > restoreRank(c.state) {
		c.state = st
	}
	if e.Type == events.SessionCleanUp {
		c.cleanedUp = true
	}
	if d.Model != "" {
		c.model = d.Model // a join's or an exit's: the same
	}
	if e.Type == events.QueueCustomerJoined {
		if t, err := time.Parse(time.RFC3339Nano, e.Time); err == nil {
			c.joinedAt = t
		}
	}
	return nil
}

// SetUnsaidModel gives the model of the customers whose events say none:
// they joined under a run of an earlier example, before events said their
// model. Call it before Restored.
func (s *Service) SetUnsaidModel(model string) {
	s.mu.Lock()
	s.unsaid = model
	s.mu.Unlock()
}

// Restored ends a replay: it counts the customers by state and puts those
// still waiting back in line, in the order they joined.
func (s *Service) Restored() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[State]int{}
	s.line, s.head = s.line[:0], 0
	for _, c := range s.byID {
		if c.model == "" {
			c.model = s.unsaid // joined under an earlier example's run
		}
		if c.cleanedUp && c.state == Waiting {
			c.state = Abandoned
		}
		s.counts[c.state]++
		if c.state == Waiting {
			s.line = append(s.line, c)
		}
	}
	slices.SortFunc(s.line, func(a, b *customer) int {
		return cmp.Or(a.joinedAt.Compare(b.joinedAt), cmp.Compare(a.session, b.session))
	})
	if len(s.line) > 0 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

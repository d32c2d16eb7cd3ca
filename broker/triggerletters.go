package broker

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"eddy/cloudevents"
	"eddy/processor/deadletter"
	"eddy/storage"
)

// A trigger's dead letters, for an operator: the events its subscriber
// refused, each with why and how often, listed sequence by sequence, and
// evicted one by one (Axon's evict), as an event that is never
// to be delivered (a poison message) needs, since a retry only sends it
// again and an ordered trigger's later events wait behind it.

// DeadLetter is one of a trigger's dead-lettered events.
type DeadLetter struct {
	// ID names the letter for an eviction.
	ID string `json:"id"`
	// Sequence is the letter's sequence: an ordered trigger's later events
	// of it wait behind its first; an unordered trigger's sequences hold
	// one event each.
	Sequence string `json:"sequence"`
	// State is "retrying" while the trigger is to try the delivery again
	// by itself (at NextAttemptAt), else "parked": it waits for a retry
	// (POST …/retry) or an eviction.
	State string `json:"state"`
	// Event is the CloudEvent, in the JSON format; Partition and Position
	// say where it is on the log.
	Event     json.RawMessage `json:"event"`
	Partition int             `json:"partition"`
	Position  uint64          `json:"position"`
	// Cause is the last failure; empty for an event parked behind its
	// sequence's first without having been tried.
	Cause string `json:"cause,omitempty"`
	// Attempts counts the requests sent to the subscriber for the event,
	// retries included (0 for an event parked behind its sequence's first,
	// never tried); Retries the retries of the letter that failed.
	Attempts      int        `json:"attempts,omitempty"`
	Retries       int        `json:"retries"`
	EnqueuedAt    time.Time  `json:"enqueuedAt"`
	LastTouchedAt time.Time  `json:"lastTouchedAt"`
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
}

// DeadLetterList is a page of a trigger's dead letters.
type DeadLetterList struct {
	Letters []DeadLetter `json:"letters"`
	// More is true when the limit left letters out: the next page starts
	// after the last letter's id (?after=).
	More bool `json:"more"`
}

// The bounds of a listing's ?limit=.
const (
	defaultLetterLimit = 100
	maxLetterLimit     = 10000
	// maxLetterBytes bounds a page's events (an event may be 1 MiB), so
	// that a listing of large events builds no huge answer: more says
	// that there are more.
	maxLetterBytes = 4 << 20
)

// DeadLetters lists up to limit of the trigger's dead letters (fewer when
// their events pass maxLetterBytes), sequence by sequence, the sequence
// dead-lettered first first, each sequence's in order; after (a letter's
// id, or "") starts the page after that letter, ErrLetterGone if it is no
// longer there. ErrTriggerNotFound if there is no such trigger.
//
// The order is not the one a retry takes them in (the head touched
// longest ago first): a retry that fails again touches its sequence,
// which would move it behind the others between two pages, and the page
// after its letter would pass over every sequence that moved ahead of it.
// A sequence keeps its place from the letter that opens it to the one
// that empties it.
func (r *Router) DeadLetters(ctx context.Context, namespace, name, after string, limit int) (DeadLetterList, error) {
	list := DeadLetterList{Letters: []DeadLetter{}}
	q, err := r.letterQueue(namespace, name)
	if err != nil {
		return list, err
	}
	infos, err := q.Sequences(ctx)
	if err != nil {
		return list, err
	}
	slices.SortFunc(infos, func(a, b deadletter.SequenceInfo) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.ID, b.ID))
	})
	size := 0
	// add puts l on the page unless the page is full: it holds at least
	// one letter, and stops at limit or once its events outgrow
	// maxLetterBytes.
	add := func(l deadletter.Letter) bool {
		if len(list.Letters) == limit || (size > 0 && size+len(l.Event.Payload) > maxLetterBytes) {
			list.More = true
			return false
		}
		size += len(l.Event.Payload)
		list.Letters = append(list.Letters, deadLetterOf(l))
		return true
	}
	if after != "" {
		// The page starts in the letter's sequence, after it: the
		// letters before were listed, and are not read again.
		seq, err := q.EachLetterAfter(ctx, after, add)
		i := slices.IndexFunc(infos, func(info deadletter.SequenceInfo) bool { return info.ID == seq })
		switch {
		case errors.Is(err, deadletter.ErrNotFound), err == nil && i < 0:
			// Gone, or its sequence emptied as this listing began:
			// where the page goes on is not known.
			return DeadLetterList{Letters: []DeadLetter{}}, fmt.Errorf("%w: %s (delivered, retried or evicted since): list from the start", ErrLetterGone, after)
		case err != nil || list.More:
			return list, err
		}
		infos = infos[i+1:]
	}
	for _, info := range infos {
		if err := q.EachLetter(ctx, info.ID, add); err != nil || list.More {
			return list, err
		}
	}
	return list, nil
}

// ErrLetterGone is a listing to start after a letter that is not there.
var ErrLetterGone = errors.New("no dead letter to list after")

// EvictDeadLetter drops the dead letter id of the trigger: its event is not
// delivered again, and the next of its sequence, if any, becomes the one a
// retry delivers first. deadletter.ErrNotFound if the trigger has no such
// letter; deadletter.ErrBusy while a retry, here or on another node,
// holds its sequence.
func (r *Router) EvictDeadLetter(ctx context.Context, namespace, name, id string) error {
	q, err := r.letterQueue(namespace, name)
	if err != nil {
		return err
	}
	l, err := q.EvictUnheld(ctx, id)
	if err != nil {
		return err
	}
	attrs := []any{"trigger", namespace + "/" + name, "letter", id, "partition", l.Event.Partition, "position", l.Event.Position}
	if ev, err := letterCloudEvent(l); err == nil {
		attrs = append(attrs, "source", ev.Source, "id", ev.ID, "type", ev.Type)
	}
	r.b.o.logger.Info("broker: a dead letter was evicted: its event is not delivered to the trigger again", attrs...)
	return nil
}

// letterQueue is the dead-letter queue of the trigger namespace/name.
func (r *Router) letterQueue(namespace, name string) (*deadletter.Queue, error) {
	t, err := r.parking(namespace, name)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	q, why := t.dlq, t.err
	r.mu.Unlock()
	if q == nil {
		return nil, fmt.Errorf("%w: trigger %s/%s could not start on this node: %v", errNotRunningHere, namespace, name, why)
	}
	return q, nil
}

// errNotRunningHere is a trigger whose dead-letter queue this node could
// not open: another node may answer.
var errNotRunningHere = errors.New("not running here")

// deadLetterOf is what a listing shows of l.
func deadLetterOf(l deadletter.Letter) DeadLetter {
	d := DeadLetter{
		ID:            l.ID,
		Sequence:      l.SequenceID,
		State:         "parked",
		Partition:     l.Event.Partition,
		Position:      l.Event.Position,
		Cause:         l.Cause.Message,
		Retries:       l.Retries,
		EnqueuedAt:    l.EnqueuedAt,
		LastTouchedAt: l.LastTouched,
	}
	d.Attempts = letterTried(l)
	if l.Diagnostics[diagRetry] == "scheduled" {
		d.State = "retrying"
		if due, err := time.Parse(time.RFC3339Nano, l.Diagnostics[diagRetryDue]); err == nil {
			d.NextAttemptAt = &due
		}
	}
	ev, err := letterCloudEvent(l)
	if err != nil {
		// Shown, not hidden: the letter is there all the same.
		d.Event, _ = json.Marshal(map[string]string{"error": err.Error()})
		return d
	}
	d.Event = cloudevents.AppendJSON(nil, ev)
	return d
}

// letterCloudEvent is the CloudEvent l holds: its log entry, as stored.
func letterCloudEvent(l deadletter.Letter) (*cloudevents.Event, error) {
	return decodeCloudEvent(l.Event.Partition, storage.Entry{Position: l.Event.Position, Data: l.Event.Payload})
}

// serveDeadLetters lists the trigger's dead letters; ?limit=N (1 to
// 10000, default 100) bounds the page, ?after=ID starts it after a letter.
func (r *Router) serveDeadLetters(w http.ResponseWriter, req *http.Request) {
	limit := defaultLetterLimit
	if v := req.URL.Query()["limit"]; len(v) > 0 {
		n, err := strconv.Atoi(v[0])
		if len(v) > 1 || err != nil || n < 1 || n > maxLetterLimit {
			writeProblem(w, http.StatusBadRequest, fmt.Errorf("query parameter limit=%q: want one count of letters from 1 to %d", v[0], maxLetterLimit))
			return
		}
		limit = n
	}
	after := ""
	if v := req.URL.Query()["after"]; len(v) > 0 {
		if len(v) > 1 || v[0] == "" {
			writeProblem(w, http.StatusBadRequest, fmt.Errorf("query parameter after: want the id of one letter, the last of the page before"))
			return
		}
		after = v[0]
	}
	list, err := r.DeadLetters(req.Context(), req.PathValue("namespace"), req.PathValue("name"), after, limit)
	if err != nil {
		writeLetterProblem(w, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// serveEvict evicts one dead letter: 204 once it is gone.
func (r *Router) serveEvict(w http.ResponseWriter, req *http.Request) {
	ns, name, id := req.PathValue("namespace"), req.PathValue("name"), req.PathValue("letter")
	if err := r.EvictDeadLetter(req.Context(), ns, name, id); err != nil {
		writeLetterProblem(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// writeLetterProblem answers a failed listing or eviction.
func writeLetterProblem(w http.ResponseWriter, err error) {
	var terr *TriggerError
	switch {
	case errors.Is(err, ErrTriggerNotFound):
		writeProblem(w, http.StatusNotFound, err)
	case errors.Is(err, ErrLetterGone):
		writeProblem(w, http.StatusNotFound, err)
	case errors.Is(err, deadletter.ErrNotFound):
		writeProblem(w, http.StatusNotFound, fmt.Errorf("no such dead letter (delivered, retried or evicted since it was listed?): %w", err))
	case errors.As(err, &terr):
		writeProblem(w, http.StatusBadRequest, err)
	case errors.Is(err, deadletter.ErrBusy):
		writeProblem(w, http.StatusConflict, fmt.Errorf("a retry is delivering its sequence now; evict once it is done: %w", err))
	case errors.Is(err, errNotRunningHere):
		writeProblem(w, http.StatusServiceUnavailable, err)
	default:
		writeProblem(w, http.StatusInternalServerError, err)
	}
}

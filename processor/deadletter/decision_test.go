package deadletter

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestPolicies(t *testing.T) {
	errSkip := errors.New("skip me")
	fresh := Letter{SequenceID: "s"}
	queued := func(retries int) Letter { return Letter{ID: "L", SequenceID: "s", Retries: retries} }
	skip := func(err error) bool { return errors.Is(err, errSkip) }
	tests := []struct {
		name   string
		policy Policy
		letter Letter
		err    error
		want   Action
	}{
		{"default on first failure", DefaultPolicy, fresh, errors.New("x"), ActionEnqueue},
		{"default on retry", DefaultPolicy, queued(7), errors.New("x"), ActionEnqueue},
		{"evict after 3, first failure", EvictAfter(3, nil), fresh, errors.New("x"), ActionEnqueue},
		{"evict after 3, first retry", EvictAfter(3, nil), queued(0), errors.New("x"), ActionEnqueue},
		{"evict after 3, third retry", EvictAfter(3, nil), queued(2), errors.New("x"), ActionEvict},
		{"evict after 0", EvictAfter(0, nil), queued(0), errors.New("x"), ActionEvict},
		{"ignore matching", IgnoreWhen(skip, nil), fresh, fmt.Errorf("wrapped: %w", errSkip), ActionIgnore},
		{"ignore others go on", IgnoreWhen(skip, EvictAfter(1, nil)), queued(0), errors.New("x"), ActionEvict},
	}
	for _, tt := range tests {
		if got := tt.policy(tt.letter, tt.err).Action; got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDecisionApply(t *testing.T) {
	l := Letter{Diagnostics: map[string]string{"kept": "1", "over": "old"}}
	got := Requeue(map[string]string{"over": "new", "added": "2"}).apply(l, errors.New("boom"))
	if got.Cause.Message != "boom" || got.Diagnostics["kept"] != "1" || got.Diagnostics["over"] != "new" || got.Diagnostics["added"] != "2" {
		t.Errorf("apply: cause %v diagnostics %v", got.Cause, got.Diagnostics)
	}
	got = Evict().WithCause(Cause{Type: "t", Message: "m"}).apply(Letter{}, errors.New("boom"))
	if got.Cause != (Cause{Type: "t", Message: "m"}) {
		t.Errorf("WithCause: %v", got.Cause)
	}
}

func TestCauseOf(t *testing.T) {
	pathErr := &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}
	tests := []struct {
		err  error
		want Cause
	}{
		{nil, Cause{}},
		{errors.New("plain"), Cause{Type: "*errors.errorString", Message: "plain"}},
		{fmt.Errorf("loading: %w", pathErr), Cause{Type: "*fs.PathError", Message: "loading: open /x: file does not exist"}},
		{fmt.Errorf("a: %w", fmt.Errorf("b: %w", errors.New("c"))), Cause{Type: "*errors.errorString", Message: "a: b: c"}},
		{fmt.Errorf("a: %w, b: %w", errors.New("x"), errors.New("y")), Cause{Type: "*fmt.wrapErrors", Message: "a: x, b: y"}},
	}
	for _, tt := range tests {
		if got := CauseOf(tt.err); got != tt.want {
			t.Errorf("CauseOf(%v) = %+v, want %+v", tt.err, got, tt.want)
		}
	}
	if s := (Cause{Type: "T", Message: "m"}).String(); s != "T: m" {
		t.Errorf("Cause.String() = %q", s)
	}
}

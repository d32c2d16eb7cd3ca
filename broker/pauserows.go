package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"eddy/storage"
)

// A pause row (replayKey) stops a trigger on every node while a reset
// (a replay, a change) is under way: each node's reload pauses the trigger
// while the row is there. The node that made the row deletes it when the
// reset ends. Each row's value is its own (newPauseRow), so that a reset
// deletes its own row only, not one another reset put in its place; and a
// row whose node died before deleting it is taken for left behind once
// this node has seen it unchanged for longer than any reset lasts, and
// deleted, so that the trigger does not stay paused for good.

// seenPause is a pause row's value and when this node first saw it.
type seenPause struct {
	value string
	at    time.Time
}

// newPauseRow is the value of a new pause row: why, then who made it and
// when, which no other reset's row repeats.
func (r *Router) newPauseRow(why string) []byte {
	return fmt.Appendf(nil, "%s (node %s, %d)", why, r.b.o.nodeID, time.Now().UnixNano())
}

// pauseOrphanedAfter is how long a pause row may stay unchanged before it is
// taken for left behind: a reset waits replayWait for the other nodes,
// each of which may take a stop's bound (30 s) to let go.
func (r *Router) pauseOrphanedAfter() time.Duration {
	if r.orphanedAfter > 0 {
		return r.orphanedAfter
	}
	return 2*r.replayWait() + 30*time.Second
}

// pausedTriggers reads the triggers paused by a pause row, by
// "namespace/name". A row this node has seen unchanged since longer than
// pauseOrphanedAfter, by its own clock, is deleted instead and the trigger
// not counted paused. r.changing is held.
func (r *Router) pausedTriggers(ctx context.Context, now time.Time) (map[string]bool, error) {
	rows := map[string]string{}
	err := r.b.state.scan(ctx, replayPrefix, func(key, value []byte) error {
		rows[strings.TrimPrefix(string(key), string(replayPrefix))] = string(value)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for key := range r.pauseSeen {
		if _, ok := rows[key]; !ok {
			delete(r.pauseSeen, key)
		}
	}
	out := map[string]bool{}
	for key, value := range rows {
		seen, ok := r.pauseSeen[key]
		if !ok || seen.value != value {
			r.pauseSeen[key] = seenPause{value: value, at: now}
			out[key] = true
			continue
		}
		if now.Sub(seen.at) < r.pauseOrphanedAfter() {
			out[key] = true
			continue
		}
		ns, name, _ := strings.Cut(key, "/")
		if _, err := r.deletePauseRow(ctx, replayKey(ns, name), []byte(value)); err != nil {
			r.b.o.logger.Warn("broker: removing a pause row left behind failed", "trigger", key, "error", err)
			out[key] = true
			continue
		}
		delete(r.pauseSeen, key)
		r.b.o.logger.Warn("broker: a pause row was left behind (its node stopped during a replay or change): removed, the trigger runs again", "trigger", key, "row", value)
	}
	return out, nil
}

// dropPauseRows deletes every pause row. Only a store that one process
// opens at a time (pebble) may: its rows at start are an earlier run's,
// which stopped during a reset; they would hold their triggers paused
// until taken for left behind.
func (r *Router) dropPauseRows(ctx context.Context) error {
	var keys [][]byte
	err := r.b.state.scan(ctx, replayPrefix, func(key, value []byte) error {
		keys = append(keys, append([]byte(nil), key...))
		r.b.o.logger.Info("broker: a pause row an earlier run left (it stopped during a replay or change): removed", "trigger", strings.TrimPrefix(string(key), string(replayPrefix)), "row", string(value))
		return nil
	})
	for _, k := range keys {
		err = errors.Join(err, r.b.state.delete(ctx, k))
	}
	return err
}

// deletePauseRow deletes the pause row at rk if its value is row; other is
// set when another reset's row is there instead, which stays.
func (r *Router) deletePauseRow(ctx context.Context, rk, row []byte) (other bool, err error) {
	cur, err := r.b.state.get(ctx, rk)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case !bytes.Equal(cur, row):
		return true, nil
	}
	return false, r.b.state.delete(ctx, rk)
}

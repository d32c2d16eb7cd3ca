package processor

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"eddy/storage"
)

// Nodes see each other through the token store itself: beside a processor's
// segments there is a companion "processor" named name+membersSuffix whose
// memberSlots segments are node slots. A node claims a free slot when it
// starts and renews that claim every claim round, as it does its segments'
// claims; a slot whose claim is fresh is a live node. The slot's token says
// how many segments the node still wants (its hunger): a node gives
// segments up only for others that want them, so a node limited below its
// fair share never makes the others leave segments unclaimed. A node that
// stops releases its slot; one that dies lets it time out, after the claim
// timeout, like its segments. No table, no clock beyond the claims' own,
// and the same code on both backends.
const (
	membersSuffix = "#nodes"
	memberSlots   = 64
)

type membership struct {
	tokens  storage.TokenStore
	name    string
	node    string
	timeout time.Duration
	slot    *storage.Claim
}

// view is what a node sees of the others in a claim round.
type view struct {
	live   int // live nodes, this one included
	hunger int // segments the other live nodes still want
}

// look reads the node slots.
func (m *membership) look(ctx context.Context, now time.Time) (view, error) {
	slots, err := m.tokens.Segments(ctx, m.name)
	if err != nil {
		return view{}, fmt.Errorf("processor: reading node slots %s: %w", m.name, err)
	}
	if len(slots) == 0 {
		err := m.tokens.InitializeSegments(ctx, m.name, memberSlots, nil)
		if err != nil && !errors.Is(err, storage.ErrExists) {
			return view{}, fmt.Errorf("processor: creating node slots %s: %w", m.name, err)
		}
	}
	v := view{live: 1} // this node, with a slot or without (all taken)
	for _, s := range slots {
		if s.Owner != "" && s.Owner != m.node && now.Sub(s.ClaimedAt) < m.timeout {
			v.live++
			if h, n := binary.Uvarint(s.Token); n > 0 && h < 1<<16 {
				v.hunger += int(h)
			}
		}
	}
	return v, nil
}

// beat renews (or takes) this node's slot, saying how many more segments
// it wants.
func (m *membership) beat(ctx context.Context, now time.Time, hunger int) error {
	token := binary.AppendUvarint(nil, uint64(max(0, hunger)))
	if m.slot != nil {
		err := m.tokens.StoreToken(ctx, *m.slot, token)
		if err == nil {
			return nil
		}
		if !errors.Is(err, storage.ErrFenced) && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("processor: renewing node slot: %w", err)
		}
		m.slot = nil // timed out and taken: take another
	}
	slots, err := m.tokens.Segments(ctx, m.name)
	if err != nil {
		return fmt.Errorf("processor: reading node slots %s: %w", m.name, err)
	}
	for _, s := range slots {
		if !storage.Claimable(s.Owner, s.ClaimedAt, m.node, now, m.timeout) {
			continue
		}
		got, err := m.tokens.ClaimSegment(ctx, m.name, s.ID, m.node, m.timeout)
		if err != nil {
			continue
		}
		c := got.Claim()
		m.slot = &c
		return m.tokens.StoreToken(ctx, c, token)
	}
	return nil // every slot is taken: this node counts itself, unseen
}

// leave frees this node's slot.
func (m *membership) leave(ctx context.Context) {
	if m.slot == nil {
		return
	}
	_ = m.tokens.ReleaseClaim(ctx, *m.slot)
	m.slot = nil
}

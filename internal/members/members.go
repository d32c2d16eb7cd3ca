// Package members lets the nodes that share a token store see each other
// through it, with no table and no clock beyond the claims' own.
//
// A group is a companion "processor" in the token store whose Slots
// segments are node slots. A node claims a free slot when it first beats
// and renews that claim on every beat; a slot whose claim is fresh is a
// live node. The slot's token carries a small number the node publishes
// (how many more segments a streaming processor's node wants, say). A node
// that stops leaves its slot; one that dies lets it time out, after the
// claim timeout, as its other claims do. The same code runs on every
// backend.
package members

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"eddy/storage"
)

// Slots is how many nodes a group sees at most; a node that finds every
// slot taken counts itself, unseen by the others.
const Slots = 64

// Group is one node's membership of a group. Its methods are not safe for
// concurrent use: one goroutine beats and looks.
type Group struct {
	tokens  storage.TokenStore
	name    string
	node    string
	timeout time.Duration
	slot    *storage.Claim
}

// New returns node's membership of the group name in tokens, whose slots'
// claims time out after timeout (every member must use the same).
func New(tokens storage.TokenStore, name, node string, timeout time.Duration) *Group {
	return &Group{tokens: tokens, name: name, node: node, timeout: timeout}
}

// View is what a node sees of the group.
type View struct {
	// Live counts the live nodes, this one included.
	Live int
	// Wanted sums what the other live nodes published.
	Wanted int
	// Nodes names the live nodes, this one included, in order.
	Nodes []string
	// Published is what each other live node published, by name.
	Published map[string]uint64
	// Marks is the mark each other live node published beside (BeatMarked),
	// by name; a node that published none is not in it.
	Marks map[string]uint64
}

// Look reads the slots.
func (g *Group) Look(ctx context.Context, now time.Time) (View, error) {
	slots, err := g.slots(ctx)
	if err != nil {
		return View{}, err
	}
	v := View{Live: 1, Nodes: []string{g.node}, Published: map[string]uint64{}, Marks: map[string]uint64{}} // with a slot or without (all taken)
	for _, s := range slots {
		if s.Owner != "" && s.Owner != g.node && now.Sub(s.ClaimedAt) < g.timeout {
			v.Live++
			v.Nodes = append(v.Nodes, s.Owner)
			if h, n := binary.Uvarint(s.Token); n > 0 {
				v.Published[s.Owner] = h
				if h < 1<<16 {
					v.Wanted += int(h)
				}
				if m, k := binary.Uvarint(s.Token[n:]); k > 0 {
					v.Marks[s.Owner] = m
				}
			}
		}
	}
	slices.Sort(v.Nodes)
	v.Nodes = slices.Compact(v.Nodes)
	return v, nil
}

// slots reads the group's slots, making them first if there are none yet:
// the first node to beat takes a slot at once.
func (g *Group) slots(ctx context.Context) ([]storage.Segment, error) {
	slots, err := g.tokens.Segments(ctx, g.name)
	if err != nil {
		return nil, fmt.Errorf("reading the node slots of %s: %w", g.name, err)
	}
	if len(slots) > 0 {
		return slots, nil
	}
	err = g.tokens.InitializeSegments(ctx, g.name, Slots, nil)
	if err != nil && !errors.Is(err, storage.ErrExists) {
		return nil, fmt.Errorf("creating the node slots of %s: %w", g.name, err)
	}
	if slots, err = g.tokens.Segments(ctx, g.name); err != nil {
		return nil, fmt.Errorf("reading the node slots of %s: %w", g.name, err)
	}
	return slots, nil
}

// Beat renews (or takes) this node's slot, publishing wanted.
func (g *Group) Beat(ctx context.Context, now time.Time, wanted int) error {
	return g.beat(ctx, now, binary.AppendUvarint(nil, uint64(max(0, wanted))))
}

// BeatMarked is Beat publishing mark beside wanted: something every node
// of the group must agree on (View.Marks), such as a fingerprint of a
// shared setting; and after it extra, what readers of the slots find in
// Member.Extra (an address's port, say).
func (g *Group) BeatMarked(ctx context.Context, now time.Time, wanted int, mark uint64, extra ...uint64) error {
	token := binary.AppendUvarint(binary.AppendUvarint(nil, uint64(max(0, wanted))), mark)
	for _, x := range extra {
		token = binary.AppendUvarint(token, x)
	}
	return g.beat(ctx, now, token)
}

func (g *Group) beat(ctx context.Context, now time.Time, token []byte) error {
	if g.slot != nil {
		err := g.tokens.StoreToken(ctx, *g.slot, token)
		if err == nil {
			return nil
		}
		if !errors.Is(err, storage.ErrFenced) && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("renewing the node slot of %s: %w", g.name, err)
		}
		g.slot = nil // timed out and taken: take another
	}
	slots, err := g.slots(ctx)
	if err != nil {
		return err
	}
	// The slot this node held before (a restart within the timeout) comes
	// first, so that its slot number, which readers may show as its id,
	// stays the same.
	slices.SortStableFunc(slots, func(a, b storage.Segment) int {
		return boolOrder(a.Owner != g.node) - boolOrder(b.Owner != g.node)
	})
	for _, s := range slots {
		if !storage.Claimable(s.Owner, s.ClaimedAt, g.node, now, g.timeout) {
			continue
		}
		got, err := g.tokens.ClaimSegment(ctx, g.name, s.ID, g.node, g.timeout)
		if err != nil {
			continue
		}
		c := got.Claim()
		g.slot = &c
		return g.tokens.StoreToken(ctx, c, token)
	}
	return nil // every slot is taken: this node counts itself, unseen
}

// Leave frees this node's slot.
func (g *Group) Leave(ctx context.Context) {
	if g.slot == nil {
		return
	}
	_ = g.tokens.ReleaseClaim(ctx, *g.slot)
	g.slot = nil
}

func boolOrder(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Member is a live node as a reader of the slots sees it.
type Member struct {
	Name string
	// Slot is the number of the node's slot: it stays while the node
	// lives, and across a restart within the claim timeout.
	Slot int
	// Extra is what the node published after its mark (BeatMarked).
	Extra []uint64
}

// Live names the live nodes of the group name in tokens, in order, as any
// reader of the store sees them: those whose slot's claim is younger than
// timeout. It makes nothing (a group nobody joined has none).
func Live(ctx context.Context, tokens storage.TokenStore, name string, timeout time.Duration, now time.Time) ([]string, error) {
	ms, err := LiveMembers(ctx, tokens, name, timeout, now)
	if err != nil {
		return nil, err
	}
	live := make([]string, 0, len(ms))
	for _, m := range ms {
		live = append(live, m.Name)
	}
	return live, nil
}

// LiveMembers is Live with each node's slot and what it published, in the
// order of their names. A node found in two slots (one it is about to lose)
// is given once, with the lower slot.
func LiveMembers(ctx context.Context, tokens storage.TokenStore, name string, timeout time.Duration, now time.Time) ([]Member, error) {
	slots, err := tokens.Segments(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("reading the node slots of %s: %w", name, err)
	}
	var live []Member
	for _, s := range slots {
		if s.Owner == "" || now.Sub(s.ClaimedAt) >= timeout {
			continue
		}
		m := Member{Name: s.Owner, Slot: s.ID}
		token := s.Token
		for i := 0; len(token) > 0; i++ {
			x, n := binary.Uvarint(token)
			if n <= 0 {
				break
			}
			token = token[n:]
			if i >= 2 { // wanted, mark, then the extra
				m.Extra = append(m.Extra, x)
			}
		}
		live = append(live, m)
	}
	slices.SortStableFunc(live, func(a, b Member) int {
		if a.Name != b.Name {
			return strings.Compare(a.Name, b.Name)
		}
		return a.Slot - b.Slot
	})
	return slices.CompactFunc(live, func(a, b Member) bool { return a.Name == b.Name }), nil
}

package pebble

import (
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"eddy/storage"
)

// InitializeSegments implements storage.TokenStore.
func (b *Backend) InitializeSegments(ctx context.Context, processor string, count int, token []byte) error {
	if err := b.lock(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	existing, err := b.segments(b.db, processor)
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		return fmt.Errorf("%w: processor %s has %d segments already", storage.ErrExists, processor, len(existing))
	}
	return b.write(func(wb *pebble.Batch) error {
		for id := 0; id < count; id++ {
			row := tokenRow{mask: count - 1, token: cloneToken(token)}
			wb.Set(tokenKey(processor, id), row.encode(), nil)
		}
		return nil
	})
}

func cloneToken(t []byte) []byte {
	if t == nil {
		return nil
	}
	return append([]byte{}, t...)
}

// Segments implements storage.TokenStore. It reads the acknowledged view.
func (b *Backend) Segments(ctx context.Context, processor string) ([]storage.Segment, error) {
	if !b.enterRead() {
		return nil, storage.ErrClosed
	}
	defer b.exitRead()
	v := b.views.acquire()
	defer b.views.release(v)
	return b.segments(v.snap, processor)
}

// segments lists processor's segments as r shows them.
func (b *Backend) segments(r pebble.Reader, processor string) ([]storage.Segment, error) {
	prefix := tokenPrefix(processor)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: storage.PrefixEnd(prefix)})
	if err != nil {
		return nil, b.readError("tokens of "+processor, err)
	}
	defer it.Close()
	var out []storage.Segment
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()
		if len(k) != len(prefix)+4 {
			continue // a longer processor name that shares this prefix
		}
		id := int(uint32(k[len(k)-4])<<24 | uint32(k[len(k)-3])<<16 | uint32(k[len(k)-2])<<8 | uint32(k[len(k)-1]))
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, b.readError("tokens of "+processor, err)
		}
		row, err := decodeToken(v)
		if err != nil {
			return nil, &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("token %s/%d: %v", processor, id, err)}
		}
		out = append(out, row.segment(processor, id))
	}
	return out, b.readError("tokens of "+processor, it.Error())
}

// ClaimSegment implements storage.TokenStore.
func (b *Backend) ClaimSegment(ctx context.Context, processor string, segment int, owner string, timeout time.Duration) (storage.Segment, error) {
	if err := b.lock(); err != nil {
		return storage.Segment{}, err
	}
	defer b.mu.Unlock()
	key := tokenKey(processor, segment)
	row, err := b.readToken(key, processor, segment)
	if err != nil {
		return storage.Segment{}, err
	}
	now := b.clock()
	if !storage.Claimable(row.owner, time.Unix(0, row.claimedAt), owner, now, timeout) {
		return storage.Segment{}, fmt.Errorf("%w: segment %d of processor %s is held by %q since %s",
			storage.ErrClaimed, segment, processor, row.owner, time.Unix(0, row.claimedAt).UTC().Format(time.RFC3339Nano))
	}
	row.owner, row.epoch, row.claimedAt = owner, row.epoch+1, now.UnixNano()
	if err := b.write(func(wb *pebble.Batch) error { return wb.Set(key, row.encode(), nil) }); err != nil {
		return storage.Segment{}, err
	}
	return row.segment(processor, segment), nil
}

// updateClaimed reads the claimed segment, checks the claim and writes what
// change makes of it.
func (b *Backend) updateClaimed(c storage.Claim, change func(*tokenRow)) error {
	if err := b.lock(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	key := tokenKey(c.Processor, c.Segment)
	row, err := b.readToken(key, c.Processor, c.Segment)
	if err != nil {
		return err
	}
	if err := fenceToken(row, c); err != nil {
		return err
	}
	change(&row)
	return b.write(func(wb *pebble.Batch) error { return wb.Set(key, row.encode(), nil) })
}

// ExtendClaim implements storage.TokenStore.
func (b *Backend) ExtendClaim(ctx context.Context, c storage.Claim) error {
	return b.updateClaimed(c, func(r *tokenRow) { r.claimedAt = b.clock().UnixNano() })
}

// StoreToken implements storage.TokenStore.
func (b *Backend) StoreToken(ctx context.Context, c storage.Claim, token []byte) error {
	return b.updateClaimed(c, func(r *tokenRow) {
		r.token = cloneToken(token)
		r.claimedAt = b.clock().UnixNano()
	})
}

// ReleaseClaim implements storage.TokenStore.
func (b *Backend) ReleaseClaim(ctx context.Context, c storage.Claim) error {
	return b.updateClaimed(c, func(r *tokenRow) { r.owner, r.claimedAt = "", 0 })
}

// SplitSegment implements storage.TokenStore.
func (b *Backend) SplitSegment(ctx context.Context, c storage.Claim) (storage.Segment, error) {
	if err := b.lock(); err != nil {
		return storage.Segment{}, err
	}
	defer b.mu.Unlock()
	key := tokenKey(c.Processor, c.Segment)
	row, err := b.readToken(key, c.Processor, c.Segment)
	if err != nil {
		return storage.Segment{}, err
	}
	if err := fenceToken(row, c); err != nil {
		return storage.Segment{}, err
	}
	_, siblingID, mask := storage.SplitIDs(c.Segment, row.mask)
	if mask > 1<<30 {
		return storage.Segment{}, fmt.Errorf("%w: segment %d of processor %s cannot be split further", storage.ErrInvalid, c.Segment, c.Processor)
	}
	row.mask = mask
	// The sibling's id may have existed before a merge: giving it the
	// parent's epoch keeps its epochs from going back.
	sibling := tokenRow{mask: mask, epoch: row.epoch, token: cloneToken(row.token)}
	err = b.write(func(wb *pebble.Batch) error {
		wb.Set(key, row.encode(), nil)
		return wb.Set(tokenKey(c.Processor, siblingID), sibling.encode(), nil)
	})
	if err != nil {
		return storage.Segment{}, err
	}
	return sibling.segment(c.Processor, siblingID), nil
}

// MergeSegments implements storage.TokenStore.
func (b *Backend) MergeSegments(ctx context.Context, ca, cb storage.Claim, token []byte) (storage.Segment, error) {
	if err := b.lock(); err != nil {
		return storage.Segment{}, err
	}
	defer b.mu.Unlock()
	ka, kb := tokenKey(ca.Processor, ca.Segment), tokenKey(cb.Processor, cb.Segment)
	ra, err := b.readToken(ka, ca.Processor, ca.Segment)
	if err != nil {
		return storage.Segment{}, err
	}
	rb, err := b.readToken(kb, cb.Processor, cb.Segment)
	if err != nil {
		return storage.Segment{}, err
	}
	if err := fenceToken(ra, ca); err != nil {
		return storage.Segment{}, err
	}
	if err := fenceToken(rb, cb); err != nil {
		return storage.Segment{}, err
	}
	sibling, mask, ok := storage.MergeSibling(ca.Segment, ra.mask)
	if !ok || ra.mask != rb.mask || sibling != cb.Segment {
		return storage.Segment{}, fmt.Errorf("%w: segments %d (mask %d) and %d (mask %d) of processor %s are not siblings",
			storage.ErrInvalid, ca.Segment, ra.mask, cb.Segment, rb.mask, ca.Processor)
	}
	keep, drop := ca.Segment, kb
	if cb.Segment < ca.Segment {
		keep, drop = cb.Segment, ka
	}
	merged := tokenRow{mask: mask, epoch: max(ra.epoch, rb.epoch) + 1, claimedAt: b.clock().UnixNano(), owner: ra.owner, token: cloneToken(token)}
	err = b.write(func(wb *pebble.Batch) error {
		wb.Delete(drop, nil)
		return wb.Set(tokenKey(ca.Processor, keep), merged.encode(), nil)
	})
	if err != nil {
		return storage.Segment{}, err
	}
	return merged.segment(ca.Processor, keep), nil
}

// DeleteSegments implements storage.TokenStore.
func (b *Backend) DeleteSegments(ctx context.Context, processor string) error {
	if err := b.lock(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	segs, err := b.segments(b.db, processor)
	if err != nil {
		return err
	}
	return b.write(func(wb *pebble.Batch) error {
		for _, s := range segs {
			wb.Delete(tokenKey(processor, s.ID), nil)
		}
		return nil
	})
}

package storage

import (
	"context"
	"time"
)

// tokenFront validates token-store requests before they reach the backend.
type tokenFront struct{ b Backend }

// MaxProcessorName bounds a processor's name in bytes.
const MaxProcessorName = 1024

func checkProcessor(p string) error {
	if p == "" {
		return invalidf("empty processor name")
	}
	if len(p) > MaxProcessorName {
		return invalidf("processor name of %d bytes, the limit is %d", len(p), MaxProcessorName)
	}
	return nil
}

func checkClaim(c Claim) error {
	if err := c.validate(); err != nil {
		return invalidf("%v", err)
	}
	return checkProcessor(c.Processor)
}

func checkTimeout(what string, d time.Duration) error {
	if d <= 0 {
		return invalidf("%s: claim timeout must be positive, got %v", what, d)
	}
	return nil
}

func (f tokenFront) InitializeSegments(ctx context.Context, processor string, count int, token []byte) error {
	if err := checkProcessor(processor); err != nil {
		return err
	}
	if count < 1 || count&(count-1) != 0 || count > 1<<16 {
		return invalidf("processor %s: segment count must be a power of two in [1, 65536], got %d", processor, count)
	}
	return f.b.InitializeSegments(ctx, processor, count, token)
}

func (f tokenFront) Segments(ctx context.Context, processor string) ([]Segment, error) {
	if err := checkProcessor(processor); err != nil {
		return nil, err
	}
	return f.b.Segments(ctx, processor)
}

func (f tokenFront) ClaimSegment(ctx context.Context, processor string, segment int, owner string, timeout time.Duration) (Segment, error) {
	if err := checkClaim(Claim{Processor: processor, Segment: segment, Owner: owner}); err != nil {
		return Segment{}, err
	}
	if err := checkTimeout(processor, timeout); err != nil {
		return Segment{}, err
	}
	return f.b.ClaimSegment(ctx, processor, segment, owner, timeout)
}

func (f tokenFront) ExtendClaim(ctx context.Context, c Claim) error {
	if err := checkClaim(c); err != nil {
		return err
	}
	return f.b.ExtendClaim(ctx, c)
}

func (f tokenFront) StoreToken(ctx context.Context, c Claim, token []byte) error {
	if err := checkClaim(c); err != nil {
		return err
	}
	return f.b.StoreToken(ctx, c, token)
}

func (f tokenFront) ReleaseClaim(ctx context.Context, c Claim) error {
	if err := checkClaim(c); err != nil {
		return err
	}
	return f.b.ReleaseClaim(ctx, c)
}

func (f tokenFront) SplitSegment(ctx context.Context, c Claim) (Segment, error) {
	if err := checkClaim(c); err != nil {
		return Segment{}, err
	}
	return f.b.SplitSegment(ctx, c)
}

func (f tokenFront) MergeSegments(ctx context.Context, a, b Claim, token []byte) (Segment, error) {
	if err := checkClaim(a); err != nil {
		return Segment{}, err
	}
	if err := checkClaim(b); err != nil {
		return Segment{}, err
	}
	if a.Processor != b.Processor {
		return Segment{}, invalidf("merge across processors %s and %s", a.Processor, b.Processor)
	}
	return f.b.MergeSegments(ctx, a, b, token)
}

func (f tokenFront) DeleteSegments(ctx context.Context, processor string) error {
	if err := checkProcessor(processor); err != nil {
		return err
	}
	return f.b.DeleteSegments(ctx, processor)
}

// ownershipFront validates ownership requests.
type ownershipFront struct {
	b          Backend
	partitions int
}

func (f ownershipFront) check(p int, owner string) error {
	if p < 0 || p >= f.partitions {
		return invalidf("partition %d out of range [0, %d)", p, f.partitions)
	}
	if owner == "" {
		return invalidf("partition %d: claim has no owner", p)
	}
	return nil
}

func (f ownershipFront) ClaimPartition(ctx context.Context, partition int, owner string, timeout time.Duration) (PartitionClaim, error) {
	if err := f.check(partition, owner); err != nil {
		return PartitionClaim{}, err
	}
	if err := checkTimeout("partition claim", timeout); err != nil {
		return PartitionClaim{}, err
	}
	return f.b.ClaimPartition(ctx, partition, owner, timeout)
}

func (f ownershipFront) RenewPartition(ctx context.Context, c PartitionClaim) error {
	if err := f.check(c.Partition, c.Owner); err != nil {
		return err
	}
	return f.b.RenewPartition(ctx, c)
}

func (f ownershipFront) ReleasePartition(ctx context.Context, c PartitionClaim) error {
	if err := f.check(c.Partition, c.Owner); err != nil {
		return err
	}
	return f.b.ReleasePartition(ctx, c)
}

func (f ownershipFront) PartitionClaims(ctx context.Context) ([]PartitionClaim, error) {
	return f.b.PartitionClaims(ctx)
}

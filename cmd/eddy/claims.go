package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"eddy/storage"
)

// Partition claims: a node writes a partition only while it holds the claim;
// it renews well inside the timeout, so that only a dead node's partitions
// move.
const (
	claimTimeout = 10 * time.Second
	renewEvery   = claimTimeout / 3
)

// claimPartitions claims every partition nobody else holds. Claims older
// than staleAfter are taken over.
func claimPartitions(ctx context.Context, s *storage.Store, node string, staleAfter time.Duration) ([]storage.PartitionClaim, error) {
	var claims []storage.PartitionClaim
	for p := 0; p < s.Partitions(); p++ {
		c, err := s.Ownership().ClaimPartition(ctx, p, node, staleAfter)
		if errors.Is(err, storage.ErrClaimed) {
			continue
		}
		if err != nil {
			return nil, err
		}
		claims = append(claims, c)
	}
	return claims, nil
}

// keepClaims renews the claims until ctx ends and returns those still held.
// A claim lost to another node is dropped and logged.
func keepClaims(ctx context.Context, s *storage.Store, claims []storage.PartitionClaim, log *slog.Logger) []storage.PartitionClaim {
	ticker := time.NewTicker(renewEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return claims
		case <-ticker.C:
		}
		kept := claims[:0]
		for _, c := range claims {
			err := s.Ownership().RenewPartition(ctx, c)
			switch {
			case err == nil:
				kept = append(kept, c)
			case errors.Is(err, storage.ErrFenced):
				log.Warn("partition claim lost to another node", "partition", c.Partition, "error", err)
			default:
				log.Error("renewing partition claim", "partition", c.Partition, "error", err)
				kept = append(kept, c)
			}
		}
		claims = kept
	}
}

// releaseClaims hands the partitions back on a clean stop, so that another
// node need not wait for the timeout.
func releaseClaims(s *storage.Store, claims []storage.PartitionClaim, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, c := range claims {
		if err := s.Ownership().ReleasePartition(ctx, c); err != nil {
			log.Warn("releasing partition claim", "partition", c.Partition, "error", err)
		}
	}
}

package main

import (
	"slices"
	"sort"
)

// sharePartitions decides which live node each of partitions belongs to,
// moving as few as it can. Each node's quota is partitions/len(nodes), one
// more for the first partitions%len(nodes) nodes ordered by how many they
// hold now (most first), then by name. A partition stays with its holder
// while the holder is live and within its quota; the others go, in
// partition order, to the nodes below their quotas, in name order.
//
// Every node computes it from what it reads of the store, so that nodes
// that read the same agree: holders[p] is the owner of partition p's claim
// ("" for none), nodes the live nodes in name order.
func sharePartitions(partitions int, nodes, holders []string) []string {
	plan := make([]string, partitions)
	if len(nodes) == 0 {
		return plan
	}
	held := make(map[string]int, len(nodes))
	for _, h := range holders {
		if _, live := slices.BinarySearch(nodes, h); live && h != "" {
			held[h]++
		}
	}
	byHoldings := slices.Clone(nodes)
	sort.SliceStable(byHoldings, func(i, j int) bool { return held[byHoldings[i]] > held[byHoldings[j]] })
	quota := make(map[string]int, len(nodes))
	for i, n := range byHoldings {
		quota[n] = partitions / len(nodes)
		if i < partitions%len(nodes) {
			quota[n]++
		}
	}
	given := make(map[string]int, len(nodes))
	for p := range plan {
		if p >= len(holders) {
			break
		}
		if h := holders[p]; h != "" && given[h] < quota[h] {
			plan[p] = h
			given[h]++
		}
	}
	for p := range plan {
		if plan[p] != "" {
			continue
		}
		for _, n := range nodes {
			if given[n] < quota[n] {
				plan[p] = n
				given[n]++
				break
			}
		}
	}
	return plan
}

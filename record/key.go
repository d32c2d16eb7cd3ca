package record

import "fmt"

// Keys are 64-bit and unique in the cluster: the partition sits in the high
// bits, so any key says where its entity lives, as in Zeebe.
const (
	keyBits      = 51
	keyCountMask = 1<<keyBits - 1
	// MaxPartitions is the largest partition count keys can address.
	MaxPartitions = 1 << (63 - keyBits)
)

// Key builds the key numbered n on partition p.
func Key(p int, n uint64) int64 { return int64(uint64(p)<<keyBits | n&keyCountMask) }

// PartitionOf returns the partition that owns key.
func PartitionOf(key int64) int { return int(uint64(key) >> keyBits) }

// KeyCounter returns the per-partition counter part of key.
func KeyCounter(key int64) uint64 { return uint64(key) & keyCountMask }

// CheckKey reports a key that cannot belong to a cluster of n partitions.
func CheckKey(key int64, partitions int) error {
	if key <= 0 {
		return fmt.Errorf("key %d is not a valid key", key)
	}
	if p := PartitionOf(key); p >= partitions {
		return fmt.Errorf("key %d belongs to partition %d, but there are only %d partitions", key, p, partitions)
	}
	return nil
}

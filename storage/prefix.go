package storage

// PrefixEnd returns the smallest key greater than every key that starts with
// prefix, or nil when there is none (a prefix of only 0xff bytes): the upper
// bound of a prefix scan.
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

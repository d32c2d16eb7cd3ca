package storage

// Entry is one record of a partition's log as storage sees it: opaque bytes
// at a position, with the time they were appended.
type Entry struct {
	Position uint64
	// Timestamp is the append time in Unix milliseconds. It never decreases
	// within a partition.
	Timestamp int64
	// Data is the record's bytes. Inside a Read callback it is only valid
	// until the callback returns; copy it to keep it.
	Data []byte
}

// Bounds are the first and last positions of a partition's log. An empty log
// has First == 0 and Last == 0.
type Bounds struct {
	First uint64
	Last  uint64
}

// Empty reports whether the log holds no entry.
func (b Bounds) Empty() bool { return b.Last == 0 || b.First > b.Last }

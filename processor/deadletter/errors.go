package deadletter

import "errors"

var (
	// ErrFull: the queue holds as many sequences, or the sequence as many
	// letters, as its limit allows. The error's message names the limit.
	ErrFull = errors.New("deadletter: queue is full")
	// ErrNotFound: no letter has the given id.
	ErrNotFound = errors.New("deadletter: letter not found")
	// ErrBusy: another Process call (here or on another node) holds the
	// sequence.
	ErrBusy = errors.New("deadletter: sequence is being processed")
	// ErrClaimLost: the sequence was taken over by another Process call
	// while its handler ran (the claim duration passed), so this one stopped
	// without changing it.
	ErrClaimLost = errors.New("deadletter: claim on the sequence was lost")
)

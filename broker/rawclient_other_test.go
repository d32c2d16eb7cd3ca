//go:build !linux

package broker

import (
	"time"
)

// rawLoad drives its connections through epoll: elsewhere it only says so.
type rawLoad struct {
	addr         string
	conns, depth int
	encode       func(dst []byte, seq int64) []byte
	ready        func()
}

type rawLoadResult struct {
	elapsed, clientCPU time.Duration
}

func (l *rawLoad) run(int64, time.Duration) (rawLoadResult, error) {
	return rawLoadResult{}, errRawLoadUnsupported
}

func processCPU() time.Duration { return 0 }

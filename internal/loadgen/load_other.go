//go:build !linux

package loadgen

import "time"

// Run needs epoll: elsewhere it only says so.
func (l *Load) Run(int64, time.Duration) (Result, error) { return Result{}, ErrUnsupported }

// RunAtRate needs epoll: elsewhere it only says so.
func (l *Load) RunAtRate(float64, time.Duration, time.Duration) (Result, error) {
	return Result{}, ErrUnsupported
}

// ProcessCPU is not read here.
func ProcessCPU() time.Duration { return 0 }

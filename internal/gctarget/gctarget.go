// Package gctarget holds the garbage collector target Eddy runs with, so
// that the binary and the benchmarks that stand for it use the same one.
package gctarget

import (
	"os"
	"runtime/debug"
)

// Percent is the garbage collector's target unless GOGC says otherwise.
// Eddy's live heap is small (tens of MB) while it allocates hundreds of MB
// a second under load, so Go's default of 100 collects dozens of times a
// second, scanning every waiting request's stack each time; 400 spends a
// few more MB to collect a quarter as often.
const Percent = 400

// Apply sets Percent when GOGC does not choose, and returns a function
// that restores the previous target.
func Apply() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	old := debug.SetGCPercent(Percent)
	return func() { debug.SetGCPercent(old) }
}

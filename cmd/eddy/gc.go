package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the garbage collector's target unless GOGC says otherwise.
// Eddy's live heap is small (tens of MB) while it allocates hundreds of MB
// a second under load, so Go's default of 100 collects dozens of times a
// second; 400 spends a few more MB to collect a quarter as often.
const gcPercent = 400

// tuneGC sets gcPercent when the user did not choose with GOGC.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}

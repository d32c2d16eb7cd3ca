//go:build race

package main

// raceEnabled: the race detector slows everything down several times, so
// the default load test is smaller under it.
const raceEnabled = true

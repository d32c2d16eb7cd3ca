package gctarget

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercentFor(t *testing.T) {
	cases := []struct {
		live uint64
		want int
	}{
		{0, MaxPercent},
		{1 << 20, MaxPercent},
		{Floor / 4, MaxPercent},
		{Floor / 2, 200},
		{Floor, MinPercent},
		{4 * Floor, MinPercent},
	}
	for _, tc := range cases {
		if got := percentFor(tc.live, Floor); got != tc.want {
			t.Errorf("percentFor(%d MB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}

func TestApplyLeavesGOGCToChoose(t *testing.T) {
	for _, gogc := range []string{"200", ""} {
		t.Setenv("GOGC", gogc)
		before := debug.SetGCPercent(150)
		restore := Apply()
		if got := debug.SetGCPercent(150); got != 150 {
			t.Fatalf("GOGC=%q: target %d, want 150 left as it was", gogc, got)
		}
		restore()
		debug.SetGCPercent(before)
	}
}

// The target follows the live heap from one collection to the next, and
// the previous target is back once restored.
func TestTargetFollowsTheLiveHeap(t *testing.T) {
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)

	const floor = 16 << 20
	restore := follow(floor)
	awaitTarget(t, MaxPercent)

	live := make([]byte, 4*floor) // pointer-free: it costs no marking, only the heap's size
	awaitTarget(t, MinPercent)
	runtime.KeepAlive(live)
	live = nil
	awaitTarget(t, MaxPercent)

	restore()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Fatalf("after restore the target is %d, want 150", got)
	}
	runtime.GC() // no tuner left to change it
	time.Sleep(10 * time.Millisecond)
	if got := debug.SetGCPercent(150); got != 150 {
		t.Fatalf("a collection after restore set the target to %d", got)
	}
}

// awaitTarget collects until the tuner, called back after a collection,
// has set the target to want.
func awaitTarget(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		time.Sleep(time.Millisecond) // the finalizer runs on its own goroutine
		got := currentPercent()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("target %d, want %d", got, want)
		}
	}
}

func currentPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

package pebble

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"eddy/storage"
)

// The pacer holds syncs only while requests wait on commits at holdRate or
// more, measured over a window, and decides again once a window has passed.
func TestSyncPacer(t *testing.T) {
	type step struct {
		after   time.Duration // clock advance before the sync
		waiting int           // requests committed before it
		want    time.Duration
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"idle", []step{{after: time.Second, want: 0}, {after: time.Second, want: 0}}},
		{"one request per millisecond", []step{
			{after: 11 * time.Millisecond, waiting: 11, want: 0},
			{after: 11 * time.Millisecond, waiting: 11, want: 0},
		}},
		{"a burst holds once the window has seen it", []step{
			{after: time.Millisecond, waiting: 40, want: 0}, // the first window is still open
			{after: 10 * time.Millisecond, waiting: 400, want: syncHold},
			{after: time.Millisecond, waiting: 0, want: syncHold}, // within the window: kept
		}},
		{"the hold ends when the rate falls", []step{
			{after: 10 * time.Millisecond, waiting: 200, want: syncHold},
			{after: 10 * time.Millisecond, waiting: 20, want: 0},
		}},
		{"exactly holdRate holds", []step{
			{after: 10 * time.Millisecond, waiting: holdRate / 100, want: syncHold},
		}},
		{"a long idle spell dilutes a short burst", []step{
			{after: 5 * time.Second, waiting: 1000, want: 0},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1_700_000_000, 0)
			p := newSyncPacer(func() time.Time { return now })
			for i, s := range tc.steps {
				now = now.Add(s.after)
				p.committed(s.waiting)
				if got := p.interval(); got != s.want {
					t.Fatalf("step %d: interval %v, want %v", i, got, s.want)
				}
			}
		})
	}
}

// A batch's waiting requests reach the pacer when the batch is committed;
// a refused batch's do not.
func TestCommitCountsWaitingRequests(t *testing.T) {
	ctx := context.Background()
	be, err := OpenFS(t.TempDir(), vfs.Default, storage.Options{Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := storage.New(be, "pebble", 0)
	defer s.Close()
	b := storage.NewBatch(0, 0)
	b.Append([]byte("e"))
	b.SetWaiting(7)
	if _, err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	fenced := storage.NewBatch(0, 99)
	fenced.Append([]byte("f"))
	fenced.SetWaiting(5)
	if _, err := s.Commit(ctx, fenced); err == nil {
		t.Fatal("a batch at the wrong epoch was committed")
	}
	if got := be.pacer.waiting.Load(); got != 7 {
		t.Fatalf("the pacer counted %d waiting requests, want 7", got)
	}
}

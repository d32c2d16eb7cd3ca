package pebble

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"eddy/storage"
)

// TestAcknowledgedWritesSurvivePowerLoss runs the backend on Pebble's
// crashable in-memory filesystem and takes crash images of it while
// appenders run: an image keeps what was synced and a random part of what
// was not, as a power cut would. Every batch acknowledged before the image
// was taken must be in it, whole, at its position, with its state write.
// (Killing the process, as the crash test does, cannot tell a synced write
// from one left in the page cache; this can.)
func TestAcknowledgedWritesSurvivePowerLoss(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	opts := storage.Options{Partitions: 2, Clock: time.Now, Logger: discardLogger(), MaxGroup: 512}
	fs := vfs.NewCrashableMem()
	b, err := OpenFS("/data", fs, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := storage.New(b, "pebble", opts.MaxGroup)
	defer s.Close()

	type ack struct {
		partition   int
		first       uint64
		writer, seq int
		n           int
	}
	var (
		mu   sync.Mutex
		acks []ack
		stop = make(chan struct{})
		wg   sync.WaitGroup
	)
	ctx := context.Background()
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			p, seq := w%2, 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				batch := storage.NewBatch(p, 0)
				n := 1 + w%5
				for i := 0; i < n; i++ {
					batch.Append([]byte(fmt.Sprintf("w%d-s%d", w, seq+i)))
				}
				batch.Put([]byte(fmt.Sprintf("writer/%d", w)), binary.BigEndian.AppendUint64(nil, uint64(seq+n)))
				first, err := s.Commit(ctx, batch)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acks = append(acks, ack{p, first, w, seq, n})
				mu.Unlock()
				seq += n
			}
		}(w)
	}
	for image := 1; image <= 6; image++ {
		time.Sleep(time.Duration(5+rng.IntN(40)) * time.Millisecond)
		mu.Lock()
		acked := append([]ack(nil), acks...)
		mu.Unlock()
		crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(100), RNG: rand.New(rand.NewPCG(rng.Uint64(), 3))})
		checkImage(t, image, crashed, opts, func(t *testing.T, logs [][]string, s *storage.Store) {
			for _, a := range acked {
				for i := 0; i < a.n; i++ {
					pos := a.first + uint64(i)
					want, got := fmt.Sprintf("w%d-s%d", a.writer, a.seq+i), ""
					if pos <= uint64(len(logs[a.partition])) {
						got = logs[a.partition][pos-1]
					}
					if got != want {
						t.Fatalf("image %d: acknowledged entry lost: partition %d position %d holds %q, want %q", image, a.partition, pos, got, want)
					}
				}
				v, err := s.Get(ctx, a.partition, []byte(fmt.Sprintf("writer/%d", a.writer)))
				if err != nil || binary.BigEndian.Uint64(v) < uint64(a.seq+a.n) {
					t.Fatalf("image %d: state of writer %d is behind its acknowledged batch ending at %d: %x, %v", image, a.writer, a.seq+a.n, v, err)
				}
			}
		})
		if t.Failed() {
			break
		}
		t.Logf("image %d: %d acknowledged batches present", image, len(acked))
	}
	close(stop)
	wg.Wait()
}

// checkImage opens a crash image, reads every partition's log (which must
// be gapless) and hands the logs and the store to check.
func checkImage(t *testing.T, image int, fs vfs.FS, opts storage.Options, check func(*testing.T, [][]string, *storage.Store)) {
	t.Helper()
	b, err := OpenFS("/data", fs, opts)
	if err != nil {
		t.Fatalf("image %d: opening: %v", image, err)
	}
	s := storage.New(b, "pebble", opts.MaxGroup)
	defer s.Close()
	logs := make([][]string, s.Partitions())
	for p := range logs {
		if err := s.Read(context.Background(), p, 1, 0, func(e storage.Entry) error {
			if e.Position != uint64(len(logs[p])+1) {
				return fmt.Errorf("partition %d: position %d follows %d", p, e.Position, len(logs[p]))
			}
			logs[p] = append(logs[p], string(e.Data))
			return nil
		}); err != nil {
			t.Fatalf("image %d: %v", image, err)
		}
	}
	check(t, logs, s)
}

package crashtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	"encoding/binary"

	"eddy/storage"
)

// Environment of the child process.
const (
	envBackend   = "EDDY_CRASHTEST_BACKEND"
	envLocation  = "EDDY_CRASHTEST_LOCATION"
	envRound     = "EDDY_CRASHTEST_ROUND"
	envAppenders = "EDDY_CRASHTEST_APPENDERS"
)

// MaybeChild turns the test binary into the crash test's child when the
// parent started it so: it appends until killed and never returns. Call it
// first thing in TestMain.
func MaybeChild() {
	backend := os.Getenv(envBackend)
	if backend == "" {
		return
	}
	round, _ := strconv.Atoi(os.Getenv(envRound))
	appenders, _ := strconv.Atoi(os.Getenv(envAppenders))
	if err := runChild(backend, os.Getenv(envLocation), round, appenders); err != nil {
		fmt.Fprintf(os.Stderr, "crash child: %v\n", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// runChild appends batches from several goroutines and prints one line per
// acknowledged batch: "ack <writer> <partition> <first> <count> <seq>".
// A line is printed only after Commit returned, so every printed batch must
// survive the kill.
func runChild(backend, location string, round, appenders int) error {
	ctx := context.Background()
	store, err := storage.Open(ctx, backend, location)
	if err != nil {
		return err
	}
	var out sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < appenders; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			writer := uint32(round*1000 + w)
			rng := rand.New(rand.NewPCG(uint64(writer), 7))
			p := w % store.Partitions()
			var seq uint64
			for {
				n := 1 + rng.IntN(20)
				b := storage.NewBatch(p, 0)
				start := seq + 1
				for i := 0; i < n; i++ {
					seq++
					b.Append(encodePayload(writer, seq, rng.IntN(600)))
				}
				b.Put(writerKey(writer), binary.BigEndian.AppendUint64(nil, seq))
				first, err := store.Commit(ctx, b)
				if err != nil {
					// A cut connection: not acknowledged, maybe committed.
					fmt.Fprintf(os.Stderr, "commit: %v\n", err)
					time.Sleep(time.Millisecond)
					continue
				}
				out.Lock()
				fmt.Fprintf(os.Stdout, "ack %d %d %d %d %d\n", writer, p, first, n, start)
				out.Unlock()
			}
		}(w)
	}
	wg.Wait()
	return nil
}

// Package crashtest checks that a storage backend keeps what it acknowledged
// when its process is killed: a child process appends from several
// goroutines and reports each acknowledged batch; the parent kills it with
// SIGKILL at a random moment, reopens the store and checks that every
// acknowledged entry is there, that positions are gapless, that no entry is
// torn and that state and log were committed together. Rounds repeat on the
// same store, so recovery is itself recovered from.
//
// A backend's test binary calls MaybeChild in TestMain and Run in a test.
package crashtest

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"eddy/storage"
)

// Config describes a crash run.
type Config struct {
	Backend  string
	Location string
	// Rounds is how many kill/recover cycles to run.
	Rounds int
	// Appenders is the number of concurrent appending goroutines in the child.
	Appenders int
	// Disturb, if set, is called at random moments while the child runs (the
	// PostgreSQL test cuts the child's connections here).
	Disturb func(t testing.TB)
	// Settle, if set, is called after the kill and before the check, to wait
	// until nothing the child started can still land: a database server
	// finishes a COMMIT it received even if the client is gone, and a check
	// that read the log before and the state after it would see them
	// disagree.
	Settle func(t testing.TB)
	// Seed makes the kill moments reproducible; 0 picks one and logs it.
	Seed uint64
}

type ack struct {
	writer    uint32
	partition int
	first     uint64
	count     int
	seq       uint64
}

// Run runs cfg.Rounds kill/recover rounds and fails t on any lost, torn or
// misplaced entry.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	t.Logf("crash test seed %d (set Config.Seed to replay)", cfg.Seed)
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	var acks []ack
	total := 0
	for round := 1; round <= cfg.Rounds; round++ {
		got := runRound(t, cfg, round, rng)
		acks = append(acks, got...)
		if cfg.Settle != nil {
			cfg.Settle(t)
		}
		total += len(got)
		verify(t, cfg, round, acks)
		if t.Failed() {
			return
		}
	}
	t.Logf("%d rounds, %d acknowledged batches, all present", cfg.Rounds, total)
}

func runRound(t *testing.T, cfg Config, round int, rng *rand.Rand) []ack {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envBackend+"="+cfg.Backend,
		envLocation+"="+cfg.Location,
		envRound+"="+strconv.Itoa(round),
		envAppenders+"="+strconv.Itoa(cfg.Appenders),
	)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting crash child: %v", err)
	}
	var (
		mu     sync.Mutex
		acks   []ack
		parsed = make(chan error, 1)
		first  = make(chan struct{})
	)
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			a, err := parseAck(sc.Text())
			if err != nil {
				parsed <- err
				return
			}
			mu.Lock()
			acks = append(acks, a)
			mu.Unlock()
			once.Do(func() { close(first) })
		}
		parsed <- nil
	}()

	// Kill at a random moment once the child is appending, so that kills
	// land in every phase of a commit.
	select {
	case <-first:
	case err := <-parsed:
		cmd.Wait()
		t.Fatalf("round %d: crash child stopped before its first acknowledgement (parse error %v): %s", round, err, stderr.String())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("round %d: crash child acknowledged nothing within a minute: %s", round, stderr.String())
	}
	deadline := time.Now().Add(time.Duration(rng.IntN(300)) * time.Millisecond)
	for cfg.Disturb != nil && time.Now().Before(deadline) {
		time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
		cfg.Disturb(t)
	}
	time.Sleep(time.Until(deadline))
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("round %d: killing crash child: %v", round, err)
	}
	cmd.Wait()
	if err := <-parsed; err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	mu.Lock()
	defer mu.Unlock()
	return acks
}

func parseAck(line string) (ack, error) {
	var a ack
	if _, err := fmt.Sscanf(line, "ack %d %d %d %d %d", &a.writer, &a.partition, &a.first, &a.count, &a.seq); err != nil {
		return a, fmt.Errorf("crash child printed %q: %v", line, err)
	}
	return a, nil
}

// verify reopens the store and checks every acknowledgement so far.
func verify(t *testing.T, cfg Config, round int, acks []ack) {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, cfg.Backend, cfg.Location)
	if err != nil {
		t.Fatalf("round %d: reopening after SIGKILL: %v", round, err)
	}
	defer store.Close()

	type at struct {
		writer uint32
		seq    uint64
	}
	logs := make([]map[uint64]at, store.Partitions())
	maxSeq := map[uint32]uint64{}
	for p := range logs {
		logs[p] = map[uint64]at{}
		want := uint64(1)
		err := store.Read(ctx, p, 1, 0, func(e storage.Entry) error {
			if e.Position != want {
				return fmt.Errorf("partition %d: position %d follows %d: the log has a gap", p, e.Position, want-1)
			}
			want++
			w, seq, err := decodePayload(e.Data)
			if err != nil {
				return fmt.Errorf("partition %d position %d: %v", p, e.Position, err)
			}
			logs[p][e.Position] = at{w, seq}
			maxSeq[w] = max(maxSeq[w], seq)
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		bounds, err := store.Bounds(ctx, p)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if bounds.Last != want-1 {
			t.Fatalf("round %d: partition %d: bounds end at %d, the log at %d", round, p, bounds.Last, want-1)
		}
	}
	for _, a := range acks {
		for i := 0; i < a.count; i++ {
			pos := a.first + uint64(i)
			got, ok := logs[a.partition][pos]
			if !ok {
				t.Fatalf("round %d: acknowledged entry lost: partition %d position %d (writer %d seq %d)", round, a.partition, pos, a.writer, a.seq+uint64(i))
			}
			if got.writer != a.writer || got.seq != a.seq+uint64(i) {
				t.Fatalf("round %d: partition %d position %d holds writer %d seq %d, acknowledged as writer %d seq %d",
					round, a.partition, pos, got.writer, got.seq, a.writer, a.seq+uint64(i))
			}
		}
	}
	// State and log commit together: each writer's state value is the last
	// sequence number of its last committed batch, so it equals the highest
	// sequence number of that writer in the log.
	for w, seq := range maxSeq {
		v, err := store.Get(ctx, int(w%1000)%store.Partitions(), writerKey(w))
		if errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("round %d: writer %d has entries up to seq %d in the log but no state", round, w, seq)
		}
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if got := binary.BigEndian.Uint64(v); got != seq {
			t.Fatalf("round %d: writer %d: state says seq %d, the log ends at seq %d: state and log were not committed together", round, w, got, seq)
		}
	}
}

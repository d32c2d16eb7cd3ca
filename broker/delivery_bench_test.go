//go:build linux

package broker

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eddy/cloudevents"
	"eddy/engine"
	"eddy/internal/loadgen"
	"eddy/record"
)

// startToEnd is a process of a start and an end event: each instance puts
// a dozen engine records on the log, as a workflow's steps do between the
// events a trigger delivers.
const startToEnd = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="bench" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="bench-flow" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>`

// BenchmarkTriggerDelivery measures how fast triggers deliver a backlog:
// with the triggers stopped, b.N events are published (100 to a batch, 4
// publishers); then the triggers start again and the clock runs until they
// have delivered every event to a local subscriber that answers 202. The
// node's log reader runs throughout, as it does while other triggers or
// live subscribers use it. "1-trigger": one trigger takes every event.
// "6-triggers+engine": six triggers each take one of six event types
// (every event is delivered once), on a log where process instances put
// about 10 engine records beside each event. It reports delivered events
// per second and the process's CPU per delivered event.
func BenchmarkTriggerDelivery(b *testing.B) {
	for _, tc := range []struct {
		name      string
		triggers  int
		instances int // process instances started per 100 events
	}{
		{"1-trigger", 1, 0},
		{"6-triggers+engine", 6, 60},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			env := newEnv(b, WithJobWorker(false, 1))
			var delivered atomic.Int64
			done := make(chan struct{})
			target := int64(b.N)
			sub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusAccepted)
				if delivered.Add(1) == target {
					close(done)
				}
			}))
			b.Cleanup(sub.Close)
			for i := range tc.triggers {
				name := "bench-" + strconv.Itoa(i)
				env.putTrigger("default", name, triggerYAML(name, "bench.type"+strconv.Itoa(i), sub.URL, ""))
			}
			if tc.instances > 0 {
				if _, err := env.eng.Deploy(ctx, record.Resource{Name: "bench.bpmn", Content: []byte(startToEnd)}); err != nil {
					b.Fatal(err)
				}
			}
			// Stop the triggers (their refresh loop ends with the broker's
			// run context); the log reader stays.
			if err := env.b.hub.log.acquire(ctx); err != nil {
				b.Fatal(err)
			}
			defer env.b.hub.log.release()
			env.b.cancel()
			if err := env.b.Triggers.stop(ctx); err != nil {
				b.Fatal(err)
			}
			before := logEntries(b, env)
			var seq atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := publishBenchEvents(env, &seq, target, tc.triggers, tc.instances); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
			rctx, stopTriggers := context.WithCancel(ctx)
			b.Cleanup(stopTriggers) // before the broker closes
			cpu0 := loadgen.ProcessCPU()
			b.ResetTimer()
			start := time.Now()
			if err := env.b.Triggers.start(rctx); err != nil {
				b.Fatal(err)
			}
			select {
			case <-done:
			case <-time.After(time.Duration(b.N)*time.Millisecond + time.Minute):
				b.Fatalf("%d of %d events delivered", delivered.Load(), b.N)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cpu := loadgen.ProcessCPU() - cpu0
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
			if tc.instances > 0 {
				b.ReportMetric(float64(logEntries(b, env)-before-b.N)/float64(b.N), "engine-records/event")
			}
		})
	}
}

// publishBenchEvents publishes events, in batches of 100, until target
// are published in all, types round robin over the triggers; with
// instances > 0 it starts that many process instances per batch too.
func publishBenchEvents(env *testEnv, seq *atomic.Int64, target int64, types, instances int) error {
	ctx := context.Background()
	for {
		from := seq.Add(100) - 100
		if from >= target {
			return nil
		}
		var batch []cloudevents.Event
		for n := from; n < min(from+100, target); n++ {
			batch = append(batch, event("bench.type"+strconv.Itoa(int(n)%types), strconv.FormatInt(n, 10), "correlationkey", "k"+strconv.FormatInt(n%64, 10)))
		}
		if _, err := env.b.Publish(ctx, batch...); err != nil {
			return fmt.Errorf("publishing: %w", err)
		}
		// The instances start together, as a busy engine's do.
		n := instances * len(batch) / 100
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := env.eng.CreateInstance(ctx, engine.CreateRequest{BpmnProcessID: "bench-flow"})
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				return fmt.Errorf("starting an instance: %w", err)
			}
		}
	}
}

// logEntries counts the entries on the log, every partition.
func logEntries(b *testing.B, env *testEnv) int {
	n := 0
	for p := range env.store.Partitions() {
		bd, err := env.store.Bounds(context.Background(), p)
		if err != nil {
			b.Fatal(err)
		}
		n += int(bd.Last)
	}
	return n
}

package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"eddy/record"
)

func correlatedRecord(message, instance int64) *record.Record {
	return &record.Record{Kind: record.Event, ValueType: record.ProcessMessageSubscription, Intent: record.Correlated, Key: 1,
		Value: record.Value{MessageKey: message, ProcessInstanceKey: instance}}
}

func expiredRecord(message int64, uncorrelated bool) *record.Record {
	return &record.Record{Kind: record.Event, ValueType: record.Message, Intent: record.Expired, Key: message,
		Value: record.Value{Uncorrelated: uncorrelated}}
}

// What a wait for a message's correlation learns from the records handed
// over, whatever came before them.
func TestCorrelationWait(t *testing.T) {
	m, inst := record.Key(1, 1), record.Key(2, 7)
	for _, c := range []struct {
		name string
		// before are handed over before the wait, after during it.
		before, after []*record.Record
		want          int64
	}{
		{name: "correlated during the wait", after: []*record.Record{correlatedRecord(m, inst)}, want: inst},
		{name: "correlated before the wait", before: []*record.Record{correlatedRecord(m, inst)}, want: inst},
		{name: "expired uncorrelated before the wait", before: []*record.Record{expiredRecord(m, true)}, want: notCorrelated},
		{name: "expired uncorrelated during the wait", after: []*record.Record{expiredRecord(m, true)}, want: notCorrelated},
		// Offered to an instance whose partition took it after the expiry
		// (its node was down): the expiry says not uncorrelated.
		{name: "expired with an offer pending", after: []*record.Record{expiredRecord(m, false), correlatedRecord(m, inst)}, want: inst},
		// Expiries of messages no instance took (an hour after a burst of
		// CloudEvents) crowd out no correlation a waiter has yet to pick
		// up.
		{name: "correlated before a burst of expiries", before: append([]*record.Record{correlatedRecord(m, inst)}, burstOfExpiries(recentOutcomes)...), want: inst},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := newOutcomes(nil)
			for _, r := range c.before {
				o.hand(r)
			}
			got := make(chan int64, 1)
			go func() {
				key, came, err := o.awaitCorrelation(context.Background(), m, time.Minute, nil)
				if err != nil || !came {
					t.Errorf("the wait ended with %v, came %v", err, came)
				}
				got <- key
			}()
			for _, r := range c.after {
				o.hand(r)
			}
			if key := <-got; key != c.want {
				t.Errorf("the wait got %d, want %d", key, c.want)
			}
		})
	}
}

// burstOfExpiries is n expiries of other messages, uncorrelated.
func burstOfExpiries(n int) []*record.Record {
	rs := make([]*record.Record, n)
	for i := range rs {
		rs[i] = expiredRecord(record.Key(1, uint64(i+100)), true)
	}
	return rs
}

// BenchmarkSeeExpiry: what a node pays for another node's message expiry
// as it follows that node's partition for outcomes (each expiry is
// decoded, for its Uncorrelated mark; its variables are a CloudEvent's
// data of 1 KiB here).
func BenchmarkSeeExpiry(b *testing.B) {
	vars := []byte(`{"data":"` + strings.Repeat("x", 1024) + `"}`)
	o := newOutcomes(nil)
	entries := make([][]byte, 1<<12)
	for i := range entries {
		r := record.Record{Kind: record.Event, ValueType: record.Message, Intent: record.Expired, Key: record.Key(1, uint64(i+1)),
			Value: record.Value{Name: "order.paid", CorrelationKey: "o-1", MessageID: "/shop e-1", Variables: vars, Uncorrelated: i%2 == 0}}
		entries[i] = record.Marshal(&r)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := o.see(entries[i%len(entries)]); err != nil {
			b.Fatal(err)
		}
	}
}

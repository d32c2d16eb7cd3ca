package cesql

import (
	"testing"

	"eddy/cloudevents"
)

func BenchmarkMatch(b *testing.B) {
	e := &cloudevents.Event{SpecVersion: "1.0", ID: "6f1c2a3e", Source: "/tickets/queue", Type: "Queue.CustomerJoined", Subject: "customer-42"}
	e.SetExtension("correlationkey", cloudevents.StringValue("customer-42"))
	e.SetExtension("partitionkey", cloudevents.StringValue("concert-7"))
	e.SetExtension("position", cloudevents.StringValue("1234"))
	for _, tc := range []struct{ name, expr string }{
		{"equal", "type = 'Queue.CustomerJoined'"},
		{"prefix", "type LIKE 'Queue.%'"},
		{"like general", "source LIKE '/t_ckets/%ue%'"},
		{"and of three", "type LIKE 'Queue.%' AND EXISTS correlationkey AND int(position) < 5000"},
		{"in", "type IN ('Tickets.Reserved', 'Queue.CustomerExited', 'Queue.CustomerJoined')"},
	} {
		x := MustParse(tc.expr)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok, err := x.Match(e); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("type LIKE 'Queue.%' AND EXISTS correlationkey AND int(position) < 5000"); err != nil {
			b.Fatal(err)
		}
	}
}

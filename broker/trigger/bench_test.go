package trigger

import (
	"strings"
	"testing"

	"eddy/cloudevents"
)

const benchTriggers = `
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: attributes}
spec:
  broker: default
  filter: {attributes: {type: Queue.CustomerJoined}}
  subscriber: {uri: "http://x.example/"}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: exact}
spec:
  broker: default
  filters: [{exact: {type: Queue.CustomerJoined}}]
  subscriber: {uri: "http://x.example/"}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: prefix}
spec:
  broker: default
  filters: [{prefix: {type: Queue.}}]
  subscriber: {uri: "http://x.example/"}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: extension}
spec:
  broker: default
  filters: [{exact: {correlationkey: customer-42}}]
  subscriber: {uri: "http://x.example/"}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: all-any-not}
spec:
  broker: default
  filters:
    - all:
        - prefix: {type: Queue.}
        - any: [{exact: {source: /other}}, {suffix: {source: /queue}}]
        - not: {exact: {subject: vip}}
  subscriber: {uri: "http://x.example/"}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: cesql}
spec:
  broker: default
  filters: [{cesql: "type LIKE 'Queue.%' AND correlationkey = 'customer-42'"}]
  subscriber: {uri: "http://x.example/"}
`

func BenchmarkMatch(b *testing.B) {
	triggers, err := Load(strings.NewReader(benchTriggers), LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	e := &cloudevents.Event{SpecVersion: "1.0", ID: "6f1c2a3e", Source: "/tickets/queue", Type: "Queue.CustomerJoined", Subject: "customer-42"}
	e.SetExtension("correlationkey", cloudevents.StringValue("customer-42"))
	e.SetExtension("partitionkey", cloudevents.StringValue("concert-7"))
	for _, tr := range triggers {
		b.Run(tr.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok, err := tr.Match(e); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(strings.NewReader(benchTriggers), LoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

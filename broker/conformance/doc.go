// Package conformance runs the CloudEvents conformance tool
// (github.com/cloudevents/conformance, its `cloudevents` command) against a
// running `eddy dev`, as the broker's users would check it: `cloudevents
// invoke` and `cloudevents send` post events to the ingress, two Knative
// triggers deliver them to `cloudevents listen` in binary and in structured
// mode, and `cloudevents diff` compares what arrived with what was sent.
// Events the CloudEvents specification forbids must be refused with 400.
//
// The package holds tests only; the tool is built from the version go.mod
// names (a tool dependency, like zbctl).
package conformance

package cluster

import (
	"eddy/engine"
	"eddy/record"
)

// The internal wire is JSON: records and values marshal as they are, enum
// values as numbers.

const (
	pathCommands  = "/internal/v1/partitions/{partition}/commands"
	pathIncidents = "/internal/v1/partitions/{partition}/incidents"
	pathInstance  = "/internal/v1/instances/{key}"
	// pathDefinitions waits for process definitions on a partition:
	// ?keys=k1,k2&wait=milliseconds.
	pathDefinitions = "/internal/v1/partitions/{partition}/definitions"
	// pathPing answers 200 while the node serves: the topology's probe.
	pathPing = "/internal/v1/ping"
)

// failure is the body of an unsuccessful answer.
type failure struct {
	// Rejection is set when the engine refused the request (a query for a
	// key that is not there); the caller gets an *engine.Rejection.
	Rejection record.RejectionType `json:"rejection,omitempty"`
	Message   string               `json:"message"`
	// NotOwner says the node no longer owns the partition: the caller
	// should look up the owner again.
	NotOwner bool `json:"notOwner,omitempty"`
	// Unknown says the command may or may not have taken effect.
	Unknown bool `json:"unknown,omitempty"`
}

type commandAnswer struct {
	Response engine.Response
}

// definitionsAnswer says whether a partition holds the definitions asked
// for.
type definitionsAnswer struct {
	Held bool `json:"held"`
}

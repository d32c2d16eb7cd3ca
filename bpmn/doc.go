// Package bpmn reads BPMN 2.0 process models as Camunda Modeler and Zeebe
// Modeler write them (the Zeebe 8.3 dialect, with its zeebe: extensions),
// checks them the way Zeebe checks a deployment, and compiles them into an
// immutable executable graph that the engine walks.
//
// The three steps are Parse (XML into a Definitions document tree, with the
// line and column of every element and the diagram interchange kept for the
// console), Compile (Definitions into one *Process per executable process,
// reporting every problem at once) and Load, which does both from bytes.
// Problems come back as a *Error listing each Problem with the element id,
// its line:column and a plain sentence.
//
// A compiled Process is a slice of Elements addressed by a dense
// ElementIndex, and a slice of Flows addressed by FlowIndex; every relation
// the engine follows (outgoing flows, boundary events, start events of a
// scope, event subprocesses) is a precomputed slice of indexes, so walking
// the graph allocates nothing. Values that Zeebe lets a modeler write as FEEL
// (job type, retries, timers, correlation keys, ...) are kept as
// Expressions; the engine evaluates them at run time.
//
// The package is pure: it reads only the bytes it is given, never the clock,
// and starts no goroutines. Timer schedules live in the sub-package timer.
package bpmn

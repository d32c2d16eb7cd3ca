// Package record defines what the engine writes on the log: a record is one
// command, event or rejection about one entity (a process instance element, a
// job, a message, ...), with a compact binary encoding.
//
// Every reader of the log (the engine itself on restart and across
// partitions, streaming processors, exporters, waiters for a process's
// outcome) decodes records with this package; nothing else about the engine's
// internals is needed to follow what happens.
package record

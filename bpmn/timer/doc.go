// Package timer reads BPMN timer values as Zeebe accepts them and computes
// when they are due: ISO-8601 date-times (timeDate), durations
// (timeDuration), repeating intervals such as R/PT10S or R5/<start>/P1D
// (timeCycle), and Spring-style six-field cron expressions (timeCycle).
//
// Nothing here reads the clock: the engine passes the current time (or the
// previous due time) to Next, so schedules are deterministic and replayable.
package timer

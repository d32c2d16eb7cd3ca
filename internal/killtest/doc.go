// Package killtest proves, from the outside, that Eddy keeps every write it
// acknowledged when its process is killed with SIGKILL under load.
//
// Its test builds the real eddy binary, runs `eddy dev` as a process of its
// own on each storage backend (embedded Pebble, PostgreSQL), and drives it
// through the REST API from several goroutines at once: creating process
// instances, completing their jobs and publishing messages with message ids,
// writing down every request Eddy acknowledged. In the middle of that load
// it kills the process, restarts it on the same data and checks, through the
// API only, that
//
//   - every acknowledged instance exists and stands where its acknowledged
//     work put it: past a task whose job completion was acknowledged, still
//     at a task whose job nobody completed;
//   - a job whose completion was acknowledged before a kill is never handed
//     out after it;
//   - every acknowledged message is still buffered (publishing its message
//     id again is refused as a duplicate) and reaches the instance waiting
//     for it;
//   - keys go on: what is created after the restart gets keys above every key
//     acknowledged before it, none reused;
//   - the restarted process keeps working: after the last kill every instance
//     runs to its end, and the partition logs it leaves are gapless.
//
// Kills repeat several times on the same data, so recovery is itself
// recovered from. A second test kills it once under a load of CloudEvents
// posted to the broker's ingress and checks that every event answered 202
// is on the log after the restart, once. The package holds no code besides
// these tests: it is the engine-level counterpart of storage/crashtest,
// which proves the same of the storage layer alone.
package killtest

// Package broker is Eddy's built-in CloudEvents broker: events enter through
// an HTTP ingress, are kept on the log, and leave through triggers, live
// push and the engine's process bindings.
//
//   - Ingress (ingress.go): CloudEvents 1.0 in binary, structured and batch
//     modes at POST /v1/events and, as Knative's broker ingress, at
//     POST /{namespace}/{broker}. A request is answered 202 once every event
//     it carries is durably on the log; a redelivery of the same source and
//     id within the engine's window is accepted and not written again.
//   - Triggers (router.go): each Knative-style Trigger is a streaming
//     processor over the log named "trigger/<namespace>/<name>/<uid>"
//     (triggeridentity.go), the uid given when the trigger is created. It decodes
//     the CloudEvents on the log, applies the trigger's filter and delivers
//     matching events to the subscriber with Knative's data-plane rules
//     (retries with backoff, replies published back into the broker with
//     a hop count, knativebrokerttl, that ends reply loops, a dead-letter
//     sink with the knativeerror* extensions, the processor's dead-letter
//     queue otherwise). Triggers are kept in the store, so they
//     survive a restart, and are managed through /v1/triggers; a trigger
//     is replayed from the log's start, its head or a time
//     (triggerreplay.go), on every node at once.
//   - The cloudevents job type (jobworker.go, waits.go): an in-process worker
//     emits an event for every job of type "cloudevents" (headers Type, Mode
//     and WaitType, as the Zeebe CloudEvents router read them) and, in mode
//     WAIT_FOR_CLOUD_EVENT, completes the job with the first event of the
//     awaited type that names the job's process instance (and, when it
//     names a job in jobkey as a reply to the job's own event does, that
//     job; addressedJob).
//   - Live push (hub.go, sse.go, websocket.go): clients follow filtered
//     events over Server-Sent Events and WebSocket, read from the log, so a
//     node pushes events of every partition.
//
// Process bindings themselves (an event starting an instance, or correlating
// as a message) are the engine's: the broker hands every event to
// engine.PublishEvent, which logs it and binds it.
package broker

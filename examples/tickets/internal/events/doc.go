// Package events is what the tickets example's services share about
// CloudEvents: the event types the seed models and triggers name, the
// extensions that address an event to a customer or a waiting process, the
// JSON data each type carries, a Publisher that posts events to Eddy's
// ingress, and a Receiver that serves the deliveries of triggers.
//
// Two extensions matter. correlationkey makes Eddy publish the event as a
// message for the process instance waiting on that key (the models wait
// for queue and reservation events by sessionId, for payment events by
// reservationId), so it is set only on the types a model waits for; an
// event that carries it and finds no waiting instance stays buffered for
// the broker's message TTL. sessionid names the customer an event is
// about, so that a browser can follow its own purchase over the broker's
// WebSocket push with one filter.
package events

package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"eddy/broker/trigger"
	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/frontend"
	"eddy/examples/tickets/internal/payments"
	"eddy/examples/tickets/internal/queue"
	"eddy/examples/tickets/internal/tickets"
)

// TestTriggerFiles loads the trigger files as Knative Triggers and checks
// them against the services: every trigger delivers to an endpoint that
// handles what it lets through, and every event type a service handles is
// delivered to it by some trigger.
func TestTriggerFiles(t *testing.T) {
	pay := payments.New(nil, payments.Config{})
	defer pay.Close()
	receivers := map[string]*events.Receiver{
		"/queue/events":    queue.New(nil, queue.Config{}).Events(),
		"/tickets/events":  tickets.New(nil, tickets.Config{}).Events(),
		"/payments/events": pay.Events(),
		"/notify":          frontend.New(frontend.Config{}).Notifier(),
	}
	files, err := triggerFiles.ReadDir("triggers")
	if err != nil || len(files) == 0 {
		t.Fatalf("no trigger files: %v", err)
	}
	covered := map[string]map[string]bool{}
	for _, f := range files {
		doc, _ := triggerFiles.ReadFile("triggers/" + f.Name())
		ts, err := trigger.Load(bytes.NewReader(doc), trigger.LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		for _, tr := range ts {
			path, ok := strings.CutPrefix(tr.Subscriber, triggerBase)
			rcv := receivers[path]
			if !ok || rcv == nil {
				t.Errorf("%s: trigger %s delivers to %s, which the example does not serve", f.Name(), tr.Key(), tr.Subscriber)
				continue
			}
			if covered[path] == nil {
				covered[path] = map[string]bool{}
			}
			// Which of the model's and services' types it lets through.
			for _, typ := range allTypes {
				e, _ := events.Build("/t", time.Now(), events.Out{Type: typ, ID: "1"})
				if path == "/notify" {
					e.SetExtension(events.ExtBpmnProcessID, cloudevents.StringValue("TICKETS"))
				}
				match, err := tr.Match(&e)
				if err != nil {
					t.Fatal(err)
				}
				if !match {
					continue
				}
				covered[path][typ] = true
				if path != "/notify" && !slices.Contains(rcv.Types(), typ) {
					t.Errorf("trigger %s sends %s to %s, which does not handle it", tr.Key(), typ, path)
				}
			}
		}
	}
	for path, rcv := range receivers {
		for _, typ := range rcv.Types() {
			if !covered[path][typ] {
				t.Errorf("%s handles %s but no trigger delivers it", path, typ)
			}
		}
	}
}

var allTypes = []string{
	events.QueueCustomerJoined, events.QueueCustomerExited, events.QueueCustomerAbandoned,
	events.TicketsReserved, events.TicketsReservationRejected, events.TicketsPaymentRequested,
	events.TicketsMoneyTransferRequested, events.TicketsPaymentsAuthorized, events.TicketsPaymentRefused,
	events.TicketsReleased, events.TicketsEmitted, events.PaymentsRequestReceived, events.PaymentsAuthorized,
	events.PaymentsRefunded, events.MoneyTransferAccepted, events.TicketsReservation1MExpired,
	events.TicketsReservationTimedOut, events.CustomerFollowUpBooked, events.SessionCleanUp, events.NotificationsRequested,
}

package main

import (
	"testing"
	"time"
)

// TestPaymentWindow reads the payment timeout of each model version: none
// in v1, the 2 minutes of the "Payment Sent" task's timer in v2 to v4.
func TestPaymentWindow(t *testing.T) {
	for version, want := range map[string]time.Duration{"v1": 0, "v2": 2 * time.Minute, "v3": 2 * time.Minute, "v4": 2 * time.Minute} {
		xml, err := models.ReadFile("models/tickets-" + version + ".bpmn")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := paymentWindow(xml); err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", version, got, err, want)
		}
	}
	if _, err := paymentWindow([]byte("<not bpmn")); err == nil {
		t.Error("a document that is not BPMN gave no error")
	}
}

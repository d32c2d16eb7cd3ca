package events

// Event types, named after their strings. The names are those of the seed
// models (message names and the Type headers of their cloudevents tasks)
// and of router-triggers.yaml; those the models do not name are marked.
const (
	// Queue service.
	QueueCustomerJoined    = "Queue.CustomerJoined"    // starts an instance (message start event)
	QueueCustomerExited    = "Queue.CustomerExited"    // correlates by sessionId
	QueueCustomerAbandoned = "Queue.CustomerAbandoned" // correlates by sessionId (v3's boundary event)

	// Tickets service.
	TicketsReserved               = "Tickets.Reserved"               // correlates by sessionId
	TicketsReservationRejected    = "Tickets.ReservationRejected"    // not in the models: not enough tickets left
	TicketsPaymentRequested       = "Tickets.PaymentRequested"       // correlates by reservationId
	TicketsMoneyTransferRequested = "Tickets.MoneyTransferRequested" // not in the models: v4's large orders
	TicketsPaymentsAuthorized     = "Tickets.PaymentsAuthorized"     // correlates by reservationId
	TicketsPaymentRefused         = "Tickets.PaymentRefused"         // not in the models: paid after the release
	TicketsReleased               = "Tickets.Released"               // not in the models: tickets back in stock
	TicketsEmitted                = "Tickets.Emitted"                // the purchase is done (v3's model emits it)

	// Payments service (the third party).
	PaymentsRequestReceived = "Payments.RequestReceived"
	PaymentsAuthorized      = "Payments.Authorized"
	PaymentsRefunded        = "Payments.Refunded"
	MoneyTransferAccepted   = "MoneyTransfer.Accepted" // correlates by sessionId (v4's large orders)

	// Emitted by the models' cloudevents tasks.
	TicketsReservation1MExpired = "Tickets.Reservation1MExpired" // v2-v4: the payment reminder
	TicketsReservationTimedOut  = "Tickets.ReservationTimedOut"  // v2-v4: the reservation ran out
	CustomerFollowUpBooked      = "Customer.FollowUpBooked"      // v3
	SessionCleanUp              = "Session.CleanUp"              // v3: the customer abandoned

	// The example itself: a run started (data: Run), so that the next run
	// on the same data knows what this one was.
	ExampleStarted = "TicketsExample.Started" // not in the models

	// Front end: a message for one browser (tickets.bpmn's name).
	NotificationsRequested = "Notifications.Requested"
)

// Extensions.
const (
	// ExtCorrelationKey correlates an event to the instance waiting for a
	// message of its type with this key.
	ExtCorrelationKey = "correlationkey"
	// ExtSessionID names the customer (browser session) an event is about.
	ExtSessionID = "sessionid"
	// ExtBpmnProcessID is set by Eddy on the events a model's cloudevents
	// task emits.
	ExtBpmnProcessID = "bpmnprocessid"
)

package events

// The JSON data of the events. Field names are the process variables the
// models read: sessionId and reservationId are their correlation keys, and
// the Tickets Reserved task maps reservationId, ticketsQuantity and
// ticketsType out of Tickets.Reserved.

// Customer is the data of the queue's events.
type Customer struct {
	SessionID string `json:"sessionId"`
	// Position is, on Queue.CustomerJoined, how many customers were ahead.
	Position int `json:"position"`
	// Model is the model version deployed when the customer joined: the
	// version of the process instance the join started, which the
	// purchase goes on under even after another model is deployed.
	Model string `json:"model,omitempty"`
}

// Reservation is the data of the tickets service's events, and of
// Tickets.Emitted whoever emits it.
type Reservation struct {
	SessionID       string `json:"sessionId"`
	ReservationID   string `json:"reservationId"`
	TicketsQuantity int    `json:"ticketsQuantity"`
	TicketsType     string `json:"ticketsType"`
	// Amount is the price in whole euros.
	Amount int `json:"amount,omitempty"`
	// ExpiresAt (RFC 3339) is when the tickets service releases a held
	// reservation that nobody started to pay.
	ExpiresAt string `json:"expiresAt,omitempty"`
	// PaymentMethod is "card" or "transfer" (large orders under v4).
	PaymentMethod string `json:"paymentMethod,omitempty"`
	// Model is the model version the purchase runs under (its
	// customer's, from Queue.CustomerExited): it decides who emits the
	// tickets and which orders are paid by transfer. Events of an earlier
	// Eddy have none; the model deployed now stands for it.
	Model string `json:"model,omitempty"`
	// Reason says why a reservation was rejected or released, or a
	// payment refused.
	Reason string `json:"reason,omitempty"`
	// Tickets are the ticket numbers, on Tickets.Emitted by the service.
	Tickets []string `json:"tickets,omitempty"`
}

// Payment is the data of the payments service's events and of the
// requests it serves.
type Payment struct {
	PaymentID     string `json:"paymentId"`
	SessionID     string `json:"sessionId"`
	ReservationID string `json:"reservationId"`
	Amount        int    `json:"amount"`
	// Method is "card" or "transfer".
	Method string `json:"method"`
	// Status is "received", "authorized" or "refunded".
	Status string `json:"status,omitempty"`
}

// Notification is the front end's message to one browser.
type Notification struct {
	SessionID string `json:"sessionId"`
	// Kind is what happened: "payment-reminder", "reservation-timed-out",
	// "tickets-emitted", "follow-up-booked" or "session-closed".
	Kind    string `json:"kind"`
	Message string `json:"message"`
	// Cause is the type of the event the notification is about.
	Cause string `json:"cause"`
}

// Run is the data of TicketsExample.Started: how the example was started.
type Run struct {
	Model string `json:"model"`
	Stock int    `json:"stock"`
	// SaysModels is set by the runs whose events say their model (the
	// model field of Customer and Reservation); a run of an earlier
	// example did not, and its customers buy under its model.
	SaysModels bool `json:"saysModels,omitempty"`
}

// Package cloudevents is CloudEvents 1.0 as Eddy receives and sends them:
// the Event type, its validation, the HTTP protocol binding (binary,
// structured and batched content modes, requests and responses), the JSON
// event format, and a compact binary encoding for the log.
//
// Receiving:
//
//	events, err := cloudevents.ReadRequest(r, 1<<20) // err is a *cloudevents.Error
//	if err != nil {
//		cloudevents.WriteError(w, err) // 400, 405, 413 or 415 with the reason
//		return
//	}
//
// Sending:
//
//	req, err := cloudevents.NewRequest(ctx, url, &e, cloudevents.Binary)
//	reply, err := cloudevents.ReadResponse(resp, 1<<20) // nil when the response carries no event
//
// Storing:
//
//	buf = cloudevents.Append(buf[:0], &e)
//	err = cloudevents.Unmarshal(buf, &e)
//
// Validation is what the specification requires, and a little more where
// Eddy must be able to forward what it accepted: required attributes are
// present and non-empty, specversion is 1.0, source is an RFC 3986
// URI-reference, dataschema an absolute URI, time an RFC 3339 timestamp,
// strings hold only the characters the type system allows, extension names
// are lower-case ASCII letters and digits, and extensions whose type is
// known (sampledrate is an Integer, dataref a URI-reference, ...) hold
// values of that type. Every error is an *Error that says which attribute is
// wrong, what is wrong with it, where it was read (header or JSON member),
// for a batch which element, and which HTTP status an ingress answers.
//
// Attribute values are kept as their canonical strings, exactly as they
// arrived, so that an event forwarded by Eddy is the event it received.
// Decoding is IO-free apart from reading the request body, allocates
// little, and never panics on hostile input (every decoder has a fuzz
// target).
package cloudevents

package record

// Header is what a record's fixed header says it is, read without decoding
// the record: its kind, value type and intent.
type Header struct {
	Kind      Kind
	ValueType ValueType
	Intent    Intent
}

// PeekHeader reads data's header without decoding the record: a log reader
// that wants a few kinds of record (the broker wants CloudEvents, say)
// skips the others for the price of a few byte reads. ok is false when data
// is too short or of an unknown format; everything Unmarshal accepts peeks
// ok, with the same kind, value type and intent.
func PeekHeader(data []byte) (h Header, ok bool) {
	if len(data) < 5 || data[0] != formatV1 {
		return Header{}, false
	}
	return Header{Kind: Kind(data[1]), ValueType: ValueType(data[2]), Intent: Intent(data[3])}, true
}

// Is reports whether the header is of that kind, value type and intent.
func (h Header) Is(k Kind, v ValueType, i Intent) bool {
	return h.Kind == k && h.ValueType == v && h.Intent == i
}

package cloudevents

import (
	"net/http"
	"strconv"
)

// DecodeJSON decodes one event in the JSON event format
// (application/cloudevents+json) and validates it.
func DecodeJSON(b []byte) (Event, error) {
	e, err := decodeStructured(b)
	if err != nil {
		return Event{}, err
	}
	return e, nil
}

// DecodeJSONBatch decodes a JSON batch (application/cloudevents-batch+json)
// and validates every event. An empty batch is valid.
func DecodeJSONBatch(b []byte) ([]Event, error) {
	es, err := decodeBatch(b)
	if err != nil {
		return nil, err
	}
	return es, nil
}

// Attribute text is rarely longer than this: the arena for it is
// allocated once at this size at most, and grows if it must.
const arenaSize = 256

func decodeStructured(b []byte) (Event, *Error) {
	s := withArena(b, min(len(b), arenaSize))
	e, err := s.event()
	if err != nil {
		return Event{}, err
	}
	if s.ws(); s.i != len(b) {
		return Event{}, badJSON(s.errf("unexpected text after the event"))
	}
	return e, nil
}

func decodeBatch(b []byte) ([]Event, *Error) {
	s := withArena(b, min(len(b), 8*arenaSize))
	if msg := s.expect('['); msg != "" {
		return nil, badJSON(msg + " (a batch is a JSON array of events)")
	}
	events := []Event{}
	if s.peek() == ']' {
		s.i++
	} else {
		for {
			e, err := s.event()
			if err != nil {
				err.Index = len(events)
				return nil, err
			}
			events = append(events, e)
			c := s.peek()
			s.i++
			if c == ']' {
				break
			}
			if c != ',' {
				s.i--
				return nil, badJSON(s.errf("expected ',' or ']' after event %d of the batch", len(events)-1))
			}
		}
	}
	if s.ws(); s.i != len(b) {
		return nil, badJSON(s.errf("unexpected text after the batch"))
	}
	return events, nil
}

func badJSON(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Index: -1, Reason: msg}
}

// Bits for core members seen, to refuse duplicates.
const (
	seenSpecVersion = 1 << iota
	seenID
	seenSource
	seenType
	seenDataContentType
	seenDataSchema
	seenSubject
	seenTime
	seenData
	seenDataBase64
)

// event reads one JSON object as an event and validates it.
func (s *jsonScanner) event() (Event, *Error) {
	var e Event
	if msg := s.expect('{'); msg != "" {
		return e, badJSON(msg + " (an event is a JSON object)")
	}
	var (
		seen               int
		dataStart, dataEnd int
		dataIsString       bool
		dataBase64         string
		hasData, hasBase64 bool
	)
	if s.peek() == '}' {
		s.i++
	} else {
		for {
			if s.peek() != '"' {
				return e, badJSON(s.errf("expected a member name"))
			}
			raw, msg := s.strBytes()
			if msg != "" {
				return e, badJSON(msg)
			}
			if msg := s.expect(':'); msg != "" {
				return e, badJSON(msg)
			}
			bit := 0
			var dst *string
			name := "" // set for extensions only: core names need no allocation
			switch string(raw) {
			case "specversion":
				bit, dst = seenSpecVersion, &e.SpecVersion
			case "id":
				bit, dst = seenID, &e.ID
			case "source":
				bit, dst = seenSource, &e.Source
			case "type":
				bit, dst = seenType, &e.Type
			case "datacontenttype":
				bit, dst = seenDataContentType, &e.DataContentType
			case "dataschema":
				bit, dst = seenDataSchema, &e.DataSchema
			case "subject":
				bit, dst = seenSubject, &e.Subject
			case "time":
				bit, dst = seenTime, &e.Time
			case "data":
				bit = seenData
			case "data_base64":
				bit = seenDataBase64
			default:
				name = s.keep(raw)
			}
			if bit != 0 {
				if seen&bit != 0 {
					return e, badAttr(string(raw), jsonWhere(string(raw)), "appears twice")
				}
				seen |= bit
			}
			switch {
			case dst != nil:
				c := s.peek()
				if c == 'n' {
					if msg := s.literal("null"); msg != "" {
						return e, badJSON(msg)
					}
					break
				}
				if c != '"' {
					return e, badAttr(string(raw), jsonWhere(string(raw)), "must be a JSON string")
				}
				v, msg := s.str()
				if msg != "" {
					return e, badAttr(string(raw), jsonWhere(string(raw)), "%s", msg)
				}
				if v == "" {
					if bit&(seenSpecVersion|seenID|seenSource|seenType) != 0 {
						// Omitted, or null, it is missing.
						return e, badAttr(string(raw), jsonWhere(string(raw)), "required, and cannot be empty")
					}
					return e, badAttr(string(raw), jsonWhere(string(raw)), "cannot be empty (omit it or use null)")
				}
				*dst = v
			case bit == seenData:
				// The data keeps the white space around the value, so that
				// binary data that is JSON comes back byte for byte.
				dataStart = s.i
				dataIsString = s.peek() == '"'
				if msg := s.skipValue(1); msg != "" {
					return e, badAttr("data", jsonWhere("data"), "%s", msg)
				}
				s.ws()
				dataEnd, hasData = s.i, true
			case bit == seenDataBase64:
				c := s.peek()
				if c == 'n' {
					if msg := s.literal("null"); msg != "" {
						return e, badJSON(msg)
					}
					break
				}
				if c != '"' {
					return e, badAttr("data_base64", jsonWhere("data_base64"), "must be a JSON string of base64")
				}
				arena := s.useArena
				s.useArena = false // data, not attribute text: it would only bloat the arena
				v, msg := s.str()
				s.useArena = arena
				if msg != "" {
					return e, badAttr("data_base64", jsonWhere("data_base64"), "%s", msg)
				}
				dataBase64, hasBase64 = v, true
			default:
				if err := s.extension(&e, name); err != nil {
					return e, err
				}
			}
			c := s.peek()
			s.i++
			if c == '}' {
				break
			}
			if c != ',' {
				s.i--
				return e, badJSON(s.errf("expected ',' or '}' in the event"))
			}
		}
	}
	if hasData && hasBase64 {
		return e, badAttr("data", "", "data and data_base64 cannot both be present")
	}
	if hasBase64 {
		d, err := decodeBase64(dataBase64)
		if err != nil {
			return e, badAttr("data_base64", jsonWhere("data_base64"), "not base64 (RFC 4648 with padding): %v", err)
		}
		if len(d) > 0 {
			// Empty data is no data, as in binary mode, where an empty
			// body cannot say otherwise.
			e.Data = d
		}
	}
	if hasData {
		if e.DataContentType == "" {
			// The JSON format implies application/json; another binding
			// must say so explicitly (JSON format section 3.1.2).
			e.DataContentType = "application/json"
		}
		raw := s.b[dataStart:dataEnd]
		if dataIsString && !isJSONMediaType(e.DataContentType) {
			sub := jsonScanner{b: raw} // str skips the white space

			if v, _ := sub.str(); v != "" { // already checked by skipValue; "" is no data
				e.Data = []byte(v)
			}
		} else {
			e.Data = raw
		}
	}
	if dup := sortExtensions(e.Extensions); dup != "" {
		return e, badAttr(dup, jsonWhere(dup), "appears twice")
	}
	if err := e.validate(); err != nil {
		if err.Attribute != "" {
			err.Where = jsonWhere(err.Attribute)
		}
		return e, err
	}
	return e, nil
}

// extension reads the value of a member that is not a core attribute.
func (s *jsonScanner) extension(e *Event, name string) *Error {
	if msg := CheckName(name); msg != "" {
		return badAttr(name, jsonWhere(name), "not a valid extension name: %s", msg)
	}
	var v Value
	switch c := s.peek(); {
	case c == '"':
		text, msg := s.str()
		if msg != "" {
			return badAttr(name, jsonWhere(name), "%s", msg)
		}
		v = Value{TypeString, text}
	case c == '-' || isDigit(c):
		start := s.i
		integer, msg := s.number()
		if msg != "" {
			return badAttr(name, jsonWhere(name), "%s", msg)
		}
		text := s.keep(s.b[start:s.i])
		if !integer {
			return badAttr(name, jsonWhere(name), "%s is not an Integer: the JSON format allows only whole numbers for extension attributes", text)
		}
		if text == "-0" {
			text = "0"
		}
		if msg := checkInteger(text); msg != "" {
			return badAttr(name, jsonWhere(name), "%s: %s", text, msg)
		}
		v = Value{TypeInteger, text}
	case c == 't' || c == 'f':
		word := "true"
		if c == 'f' {
			word = "false"
		}
		if msg := s.literal(word); msg != "" {
			return badJSON(msg)
		}
		v = Value{TypeBoolean, word}
	case c == 'n':
		// null is an unset attribute.
		if msg := s.literal("null"); msg != "" {
			return badJSON(msg)
		}
		return nil
	case c == '{' || c == '[':
		return badAttr(name, jsonWhere(name), "an attribute value is a string, number or boolean, not an object or array")
	default:
		if c == 0 {
			return badJSON(s.errf("unexpected end"))
		}
		return badJSON(s.errf("unexpected %s", s.at()))
	}
	if e.Extensions == nil {
		e.Extensions = make([]Extension, 0, 4) // events carry few
	}
	e.Extensions = append(e.Extensions, Extension{Name: name, Value: typedExtension(name, v)})
	return nil
}

func jsonWhere(name string) string { return "JSON member " + strconv.Quote(name) }

package cloudevents

import (
	"encoding/base64"
	"unicode/utf8"
)

// AppendJSON appends e in the JSON event format. Data goes in "data" as a
// JSON value when the datacontenttype declares JSON and the data is valid
// JSON; as a JSON string when the content type is not JSON and the data is
// text (UTF-8 without control characters other than tab, CR and LF);
// otherwise, and always when there is no datacontenttype (the format would
// read "data" as JSON), base64 in "data_base64". So DecodeJSON reads back
// e itself.
func AppendJSON(dst []byte, e *Event) []byte {
	dst = append(dst, `{"specversion":`...)
	dst = appendJSONString(dst, e.SpecVersion)
	dst = appendMember(dst, "id", e.ID)
	dst = appendMember(dst, "source", e.Source)
	dst = appendMember(dst, "type", e.Type)
	dst = appendMember(dst, "datacontenttype", e.DataContentType)
	dst = appendMember(dst, "dataschema", e.DataSchema)
	dst = appendMember(dst, "subject", e.Subject)
	dst = appendMember(dst, "time", e.Time)
	for _, x := range e.Extensions {
		dst = append(dst, ',')
		dst = appendJSONString(dst, x.Name)
		dst = append(dst, ':')
		switch x.Value.Type {
		case TypeInteger, TypeBoolean:
			dst = append(dst, x.Value.Text...)
		default:
			dst = appendJSONString(dst, x.Value.Text)
		}
	}
	if e.Data != nil {
		switch json := isJSONMediaType(e.DataContentType); {
		case e.DataContentType == "":
			// Bytes of unknown type: "data" would claim application/json.
			dst = appendBase64Data(dst, e.Data)
		case json && validJSON(e.Data):
			dst = append(dst, `,"data":`...)
			dst = append(dst, e.Data...)
		case !json && isText(e.Data):
			dst = append(dst, `,"data":`...)
			dst = appendJSONString(dst, string(e.Data))
		default:
			dst = appendBase64Data(dst, e.Data)
		}
	}
	return append(dst, '}')
}

func appendBase64Data(dst, data []byte) []byte {
	dst = append(dst, `,"data_base64":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, data)
	return append(dst, '"')
}

// AppendJSONBatch appends events as a JSON batch.
func AppendJSONBatch(dst []byte, events []Event) []byte {
	dst = append(dst, '[')
	for i := range events {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSON(dst, &events[i])
	}
	return append(dst, ']')
}

func appendMember(dst []byte, name, v string) []byte {
	if v == "" {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendJSONString(dst, v)
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD (validated events hold none).
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += n
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// isText reports UTF-8 without control characters other than tab, CR, LF.
func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return utf8.Valid(b)
}

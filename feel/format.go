package feel

import (
	"strconv"
	"strings"
)

// String returns v as FEEL source would write it: 1.5, "text", [1, 2],
// {a: 1, "b c": 2}, @"2024-01-31", [1..5], null.
func (v Value) String() string {
	var b strings.Builder
	v.write(&b)
	return b.String()
}

func (v Value) write(b *strings.Builder) {
	switch v.kind {
	case KindNull:
		b.WriteString("null")
	case KindBool:
		b.WriteString(strconv.FormatBool(v.n != 0))
	case KindNumber:
		b.WriteString(v.dec().String())
	case KindString:
		writeQuoted(b, v.str())
	case KindDate, KindTime, KindDateTime, KindDuration, KindYearsMonths:
		b.WriteString(`@"`)
		b.WriteString(v.text())
		b.WriteByte('"')
	case KindList:
		b.WriteByte('[')
		for i, it := range v.items() {
			if i > 0 {
				b.WriteString(", ")
			}
			it.write(b)
		}
		b.WriteByte(']')
	case KindContext:
		c := v.ctx()
		b.WriteByte('{')
		for i, k := range c.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			if isPlainName(k) {
				b.WriteString(k)
			} else {
				writeQuoted(b, k)
			}
			b.WriteString(": ")
			c.vals[i].write(b)
		}
		b.WriteByte('}')
	case KindRange:
		writeRange(b, (*Range)(v.p))
	case KindFunction:
		b.WriteString((*Function)(v.p).String())
	}
}

func writeRange(b *strings.Builder, r *Range) {
	switch {
	case r.StartUnbounded:
		b.WriteString(map[bool]string{true: "<= ", false: "< "}[r.EndIncluded])
		r.End.write(b)
		return
	case r.EndUnbounded:
		b.WriteString(map[bool]string{true: ">= ", false: "> "}[r.StartIncluded])
		r.Start.write(b)
		return
	}
	b.WriteString(map[bool]string{true: "[", false: "("}[r.StartIncluded])
	r.Start.write(b)
	b.WriteString("..")
	r.End.write(b)
	b.WriteString(map[bool]string{true: "]", false: ")"}[r.EndIncluded])
}

// text returns the text of a value as string() gives it: strings as they
// are, temporals in ISO form, everything else as String.
func (v Value) text() string {
	switch v.kind {
	case KindString:
		return v.str()
	case KindDate:
		return Date{days: v.n}.String()
	case KindTime:
		return (*Time)(v.p).String()
	case KindDateTime:
		return (*DateTime)(v.p).String()
	case KindDuration:
		return v.dur().String()
	case KindYearsMonths:
		return YearsMonths(v.n).String()
	}
	return v.String()
}

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				b.WriteString(`\u`)
				h := strconv.FormatInt(int64(r), 16)
				b.WriteString(strings.Repeat("0", 4-len(h)) + h)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// isPlainName reports whether a context key can be written without quotes.
func isPlainName(s string) bool {
	if s == "" || keywords[s] {
		return false
	}
	for i, r := range s {
		if i == 0 && !isNameStart(r) || !isNamePart(r) {
			return false
		}
	}
	return true
}

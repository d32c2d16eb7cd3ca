package bpmn

import "bytes"

// positionIn returns the line and column in the document of the byte at
// offset want of a text's decoded content, the text starting at byte start
// of src, at line:col. It walks the document's bytes, counting each entity
// (&gt;, &#10;) as the bytes it decodes to, a CR LF as one byte, and CDATA
// markers and comments as none, which is how encoding/xml decoded them.
func positionIn(src []byte, start, line, col, want int) (int, int) {
	i, decoded, inCDATA := start, 0, false
	for i < len(src) && decoded < want {
		rest := src[i:]
		switch {
		case inCDATA && bytes.HasPrefix(rest, []byte("]]>")):
			inCDATA, i, col = false, i+3, col+3
			continue
		case !inCDATA && bytes.HasPrefix(rest, []byte("<![CDATA[")):
			inCDATA, i, col = true, i+9, col+9
			continue
		case !inCDATA && bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest, []byte("-->"))
			if end < 0 {
				return line, col
			}
			for _, c := range rest[:end+3] {
				line, col = advance(c, line, col)
			}
			i += end + 3
			continue
		case !inCDATA && rest[0] == '<':
			return line, col // the end of the text
		case !inCDATA && rest[0] == '&':
			end := bytes.IndexByte(rest, ';')
			if end < 0 {
				return line, col
			}
			decoded += entityLen(rest[1:end])
			i, col = i+end+1, col+end+1
			continue
		case rest[0] == '\r' && len(rest) > 1 && rest[1] == '\n':
			i++ // decoded as a single '\n'
			continue
		}
		line, col = advance(rest[0], line, col)
		i++
		decoded++
	}
	return line, col
}

func advance(c byte, line, col int) (int, int) {
	if c == '\n' {
		return line + 1, 1
	}
	return line, col + 1
}

// entityLen is the length in bytes of what an entity's name decodes to.
func entityLen(name []byte) int {
	if len(name) > 1 && name[0] == '#' {
		var r rune
		for _, c := range name[1:] {
			switch {
			case c >= '0' && c <= '9' && name[1] != 'x':
				r = r*10 + rune(c-'0')
			case name[1] == 'x' && c != 'x':
				r = r*16 + rune(hexDigit(c))
			}
			if r > 0x10FFFF {
				return 4
			}
		}
		switch {
		case r < 0x80:
			return 1
		case r < 0x800:
			return 2
		case r < 0x10000:
			return 3
		}
		return 4
	}
	return 1 // lt, gt, amp, quot, apos
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return 0
}

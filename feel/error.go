package feel

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a problem with an expression: a syntax error found by Compile,
// or a failure to evaluate. It says where (byte offset, 1-based line and
// column in runes) and what, in a plain sentence.
type Error struct {
	Offset int
	Line   int
	Column int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg) }

// errorAt builds an Error at byte offset off of src.
func errorAt(src string, off int, format string, args ...any) *Error {
	off = max(min(off, len(src)), 0)
	before := src[:off]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	return &Error{Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// Warning is a reason why part of an expression evaluated to null (an
// unknown variable, a comparison of different types...). FEEL turns these
// into null rather than failing; they explain a null result.
type Warning struct {
	Offset int
	Msg    string
}

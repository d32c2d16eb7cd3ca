package cesql

import "fmt"

// ErrorKind is one of the error types the specification names.
type ErrorKind uint8

// The error kinds of CESQL 1.0, section 3.3.
const (
	ParseError ErrorKind = iota + 1
	MathError
	CastError
	MissingAttributeError
	MissingFunctionError
	FunctionEvaluationError
	GenericError
)

func (k ErrorKind) String() string {
	switch k {
	case ParseError:
		return "parse error"
	case MathError:
		return "math error"
	case CastError:
		return "cast error"
	case MissingAttributeError:
		return "missing attribute"
	case MissingFunctionError:
		return "missing function"
	case FunctionEvaluationError:
		return "function evaluation error"
	}
	return "error"
}

// Error is a CESQL error: its kind, where in the expression (a byte
// offset), and what happened.
type Error struct {
	Kind ErrorKind
	Pos  int // byte offset in the expression
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("cesql: %s at column %d: %s", e.Kind, e.Pos+1, e.Msg)
}

func errorf(kind ErrorKind, pos int, format string, args ...any) *Error {
	return &Error{Kind: kind, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

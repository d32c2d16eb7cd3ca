// Package cesql is the CloudEvents SQL Expression Language (CESQL 1.0):
// predicates over an event's attributes, as Knative trigger filters and
// Eddy's live subscriptions use them.
//
//	x, err := cesql.Parse("type LIKE 'Queue.%' AND int(position) < 100") // err is a *cesql.Error
//	ok, err := x.Match(&event) // true only for a Boolean true without error
//	v, err := x.Evaluate(&event)
//
// Parse once, evaluate many: an Expression is immutable and safe for
// concurrent use, and evaluation allocates nothing unless a string function
// builds a new string.
//
// Semantics follow the specification: keywords and function names are
// case-insensitive; values are Booleans, 32-bit Integers and Strings;
// operands are cast implicitly (for =, != and <> the left operand takes the
// type of the right one; IN casts the set to the left operand's type);
// AND and OR short-circuit; errors are ParseError, MathError, CastError,
// MissingAttributeError, MissingFunctionError and FunctionEvaluationError.
// Evaluation is fail-fast (specification section 4.1): the first error
// stops it, and a filter whose expression errs does not match.
//
// Where the specification leaves room, Eddy chooses a clear error over a
// guess:
//
//   - A call to an unknown function, or with the wrong number of
//     arguments, is refused by Parse (a MissingFunctionError with its
//     position), not discovered event by event.
//   - AND, OR and XOR share one precedence level. The specification says
//     that equal precedence evaluates left to right, while the grammar of
//     the reference SDK (used by Knative) associates them to the right, so
//     "a AND b OR c" means different things in the two. Parse refuses to
//     mix different logical operators without parentheses; chains of one
//     operator ("a AND b AND c") are fine, since they mean the same either
//     way.
//   - Integer arithmetic that overflows 32 bits is a MathError, as division
//     by zero is.
//   - An integer literal outside 32 bits is a ParseError.
package cesql

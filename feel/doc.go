// Package feel implements FEEL, the expression language of DMN 1.3, as Zeebe 8
// uses it in process models (the caller strips Zeebe's leading '=').
//
// Compile once, evaluate many:
//
//	e, err := feel.Compile(`amount > 100 and status = "ok"`) // err is a *feel.Error: "1:9: ..."
//	ok, err := e.EvalBool(feel.Env{Vars: vars, Now: now})    // a condition: non-booleans are errors
//	v, err := e.Eval(feel.Env{Vars: vars, Now: now})         // any value; null is not an error
//	names := e.Vars()                                         // the variables it may read
//
// Unary tests (decision table input entries, "< 10", "[1..5], > 100",
// "not("a")", "-", "? > 3") compile with CompileUnaryTests and run with
// Match. Variables come through a Scope: MapScope, JSONScope (JSON
// documents, as the engine stores variables), a *Context, or Scopes
// chaining several. FromJSON, Value.MarshalJSON, FromGo and Value.ToGo
// convert values; numbers stay exact both ways.
//
// Evaluation is pure: no IO (but see below for time zones), no clock (the
// current time for now() and today() is Env.Now, and they fail without
// it), no goroutines. A compiled Expression is immutable and safe for
// concurrent use. Limits bound the steps, call depth and result sizes of an
// evaluation, so that no expression can hang or exhaust memory.
//
// # Null and errors
//
// FEEL turns most problems into null: a missing variable or context entry,
// a comparison of different types, an operation not defined for its
// operands, a built-in given arguments of the wrong type. Evaluation keeps
// those as null, and records why (Env.Warnings, and EvalBool's message).
// It returns an *Error only for a failure to evaluate: an unknown
// function, a call with the wrong number or names of arguments, a call of
// something that is not a function, now() without Env.Now, a limit
// exceeded. Zeebe 8.3+ (FEEL-scala 1.17) makes some of these null as
// well; Eddy fails instead, because a misspelt function in a condition
// is a modelling error that should raise an incident with a message, not
// silently take the other branch.
//
// Where the spec leaves room, Zeebe's FEEL-scala decides: a missing variable
// is null (so x > 1000000 with no x is null, and EvalBool reports "condition
// evaluated to null, not a boolean: no variable found for name "x""); names
// can be written in backquotes; is defined, get or else, context put and
// context merge are built-ins; string join skips nulls; sort without a
// precedes function sorts in natural order; durations and numbers use
// java.time's and BigDecimal's (decimal128) arithmetic rules.
//
// # Names
//
// FEEL names may contain spaces: consecutive words that are not keywords
// read as one name ("order total", "string length"). Names containing
// keywords or operator characters are recognised when known: the
// built-ins ("date and time"), context keys defined earlier in the same
// expression, and names declared with WithNames ("tracking-id"); the
// longest known name wins, as the spec's name resolution prescribes.
//
// # Numbers
//
// Numbers are exact decimals (see Decimal): 0.1 + 0.2 = 0.3. Values read
// from text or JSON are kept exactly; arithmetic results are rounded
// half-even to 34 significant digits as DMN's decimal128 prescribes, within
// decimal128's exponent range (beyond it the result is null).
//
// # Time zones
//
// Zone names (@"10:00:00@Europe/Paris") are resolved with time.LoadLocation,
// which reads the system's tz database (or the one embedded by importing
// time/tzdata) once per name; results are cached. The database is data,
// not a clock: for a given database, evaluation is deterministic.
package feel

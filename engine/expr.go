package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"eddy/bpmn"
	"eddy/feel"
)

// compiled returns the FEEL expression of e, which bpmn compiled when the
// model was loaded (a model whose expressions do not compile is refused).
func (c *Core) compiled(e *bpmn.Expression) (*feel.Expression, error) {
	if e.Compiled == nil {
		return nil, errors.New("the expression was not compiled with its model")
	}
	return e.Compiled, nil
}

// scopeVars lets FEEL read the variables visible from an element instance,
// decoding a variable's JSON value each time an expression reads it.
type scopeVars struct {
	c     *Core
	scope int64
}

func (s scopeVars) Lookup(name string) (feel.Value, bool) {
	raw, ok := s.c.lookupVariable(s.scope, name)
	if !ok {
		return feel.Null, false
	}
	v, err := feel.FromJSON(raw)
	if err != nil {
		return feel.Null, false
	}
	return v, true
}

func (c *Core) env(scope int64) feel.Env {
	return feel.Env{Vars: scopeVars{c, scope}, Now: time.UnixMilli(c.now).UTC()}
}

// evalBoolWith evaluates a condition in scope, where the names of extra
// (a multi-instance body's counters) hide the variables.
func (c *Core) evalBoolWith(e *bpmn.Expression, scope int64, extra feel.MapScope) (bool, error) {
	x, err := c.compiled(e)
	if err != nil {
		return false, evalError(e, err)
	}
	env := c.env(scope)
	env.Vars = feel.Scopes{extra, env.Vars}
	ok, err := x.EvalBool(env)
	if err != nil {
		return false, evalError(e, err)
	}
	return ok, nil
}

// eval evaluates e in scope.
func (c *Core) eval(e *bpmn.Expression, scope int64) (feel.Value, error) {
	if e.Static {
		return feel.String(e.Source), nil
	}
	x, err := c.compiled(e)
	if err != nil {
		return feel.Null, evalError(e, err)
	}
	v, err := x.Eval(c.env(scope))
	if err != nil {
		return feel.Null, evalError(e, err)
	}
	return v, nil
}

// evalError says which expression failed and why: an incident must let
// its reader find the expression in the model and see what went wrong.
func evalError(e *bpmn.Expression, err error) error {
	var fe *feel.Error
	if errors.As(err, &fe) {
		return fmt.Errorf("failed to evaluate expression '%s' at %d:%d: %s", e.Source, fe.Line, fe.Column, fe.Msg)
	}
	return fmt.Errorf("failed to evaluate expression '%s': %v", e.Source, err)
}

// evalJSON evaluates e to a JSON value.
func (c *Core) evalJSON(e *bpmn.Expression, scope int64) (json.RawMessage, error) {
	v, err := c.eval(e, scope)
	if err != nil {
		return nil, err
	}
	return v.MarshalJSON()
}

// evalText evaluates e to text: a static value as written, a string as it
// is, a number in its plain form. ok is false for any other result, which
// v then describes.
func (c *Core) evalText(e *bpmn.Expression, scope int64) (text string, v feel.Value, ok bool, err error) {
	if e.Static {
		return e.Source, feel.Null, true, nil
	}
	if v, err = c.eval(e, scope); err != nil {
		return "", v, false, err
	}
	if s, ok := v.AsString(); ok {
		return s, v, true, nil
	}
	if n, ok := v.AsNumber(); ok {
		if i, ok := n.Int64(); ok {
			return strconv.FormatInt(i, 10), v, true, nil
		}
		return n.String(), v, true, nil
	}
	return "", v, false, nil
}

// evalString evaluates e to a string.
func (c *Core) evalString(e *bpmn.Expression, scope int64) (string, error) {
	s, v, ok, err := c.evalText(e, scope)
	if err == nil && !ok {
		err = fmt.Errorf("expected the expression '%s' to evaluate to a string, but it evaluated to %s", e.Source, describeValue(v))
	}
	return s, err
}

// evalCorrelationKey evaluates a correlation key: a string or a number, as
// in Zeebe, which words the error its own way.
func (c *Core) evalCorrelationKey(e *bpmn.Expression, scope int64) (string, error) {
	s, v, ok, err := c.evalText(e, scope)
	if err == nil && !ok {
		err = fmt.Errorf("The value must be either a string or a number, but was %s", strings.ToUpper(v.Kind().String()))
	}
	return s, err
}

// evalBool evaluates a condition; anything but a boolean is an error.
func (c *Core) evalBool(e *bpmn.Expression, scope int64) (bool, error) {
	x, err := c.compiled(e)
	if err != nil {
		return false, evalError(e, err)
	}
	ok, err := x.EvalBool(c.env(scope))
	if err != nil {
		return false, evalError(e, err)
	}
	return ok, nil
}

func describeValue(v feel.Value) string {
	if v.IsNull() {
		return "null"
	}
	return fmt.Sprintf("%s %s", v.Kind(), v.String())
}

package bpmn

import "strings"

// valueOf reads a value a modeler may write as a literal or as "=FEEL".
func valueOf(v string, line, col int) Expression {
	if t := strings.TrimLeft(v, " \t\r\n"); strings.HasPrefix(t, "=") {
		return Expression{Source: t[1:], Line: line, Col: col}
	}
	return Expression{Source: v, Static: true, Line: line, Col: col}
}

// attrValue reads attribute local of n as a value.
func attrValue(n *Node, local string) Expression {
	return valueOf(n.Attr(local), n.Line, n.Col)
}

// optionalAttrValue is attrValue, nil when the attribute is absent or empty.
func optionalAttrValue(n *Node, local string) *Expression {
	if n.Attr(local) == "" {
		return nil
	}
	e := attrValue(n, local)
	return &e
}

// expressionText reads the text of n as an expression that needs no '='
// (conditions, completion conditions): older Zeebe models wrote them bare.
// It returns nil for an empty text.
func expressionText(n *Node) *Expression {
	t := strings.TrimSpace(n.Text)
	if t == "" {
		return nil
	}
	col, offset := n.TextCol, n.TextOffset
	if strings.HasPrefix(t, "=") {
		t, col, offset = t[1:], col+1, offset+1
	}
	return &Expression{Source: t, Line: n.TextLine, Col: col, inText: true, offset: offset}
}

// textValue reads the trimmed text of n (a timer) as a value: a literal,
// or FEEL after '='.
func textValue(n *Node) Expression {
	e := valueOf(strings.TrimSpace(n.Text), n.TextLine, n.TextCol)
	e.offset = n.TextOffset
	if !e.Static {
		e.Col++ // past the '='
		e.offset++
	}
	e.inText = true
	return e
}

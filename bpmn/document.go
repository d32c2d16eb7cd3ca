package bpmn

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Definitions is a parsed BPMN document: its header, the element tree
// with positions, and the diagram interchange. Compile turns it into
// executable processes.
type Definitions struct {
	ID              string
	Name            string
	TargetNamespace string
	Exporter        string
	ExporterVersion string
	// ExecutionPlatform and ExecutionPlatformVersion are Camunda Modeler's
	// modeler:executionPlatform attributes ("Camunda Cloud", "8.3.0").
	ExecutionPlatform        string
	ExecutionPlatformVersion string

	// Root is the <definitions> element.
	Root *Node
	// Diagrams is the diagram interchange: shapes and edges to draw.
	Diagrams []Diagram
	// Source is the document as read, for a renderer such as bpmn-js.
	Source []byte
}

// Node is one XML element of the document.
type Node struct {
	// Space is the namespace URI, Local the name without prefix.
	Space, Local string
	Attrs        []xml.Attr
	Children     []*Node
	// Text is the character data directly inside the element.
	Text string
	// Line and Col locate the element's '<'; TextLine and TextCol the
	// first non-blank character of Text, and TextOffset its byte offset in
	// the document (entities such as &gt; make Text shorter than the
	// document's bytes). Columns count bytes from 1.
	Line, Col         int
	TextLine, TextCol int
	TextOffset        int
}

// Attr returns the value of the attribute without namespace named local.
func (n *Node) Attr(local string) string { return n.AttrNS("", local) }

// AttrNS returns the value of the attribute space:local ("" if absent).
func (n *Node) AttrNS(space, local string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == local && a.Name.Space == space {
			return a.Value
		}
	}
	return ""
}

// HasAttr reports whether the attribute without namespace is present.
func (n *Node) HasAttr(local string) bool {
	for _, a := range n.Attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return true
		}
	}
	return false
}

// ID returns the element's id attribute.
func (n *Node) ID() string { return n.Attr("id") }

// maxDepth bounds element nesting, so that a hostile document cannot make
// the compiler's recursion deep.
const maxDepth = 256

// Parse reads a BPMN 2.0 document. It reports XML that is not well-formed,
// or that is not BPMN, as a *Error; the model itself is checked by Compile.
func Parse(r io.Reader) (*Definitions, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return parseBytes(src)
}

func parseBytes(src []byte) (*Definitions, error) {
	dec := xml.NewDecoder(bytes.NewReader(src))
	dec.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
		if strings.EqualFold(charset, "us-ascii") {
			return input, nil
		}
		return nil, fmt.Errorf("the encoding %q is not supported, save the model as UTF-8", charset)
	}
	var root *Node
	var stack []*Node
	failAt := func(line, col int, msg string) (*Definitions, error) {
		return nil, &Error{Problems: []Problem{{Line: line, Col: col, Message: msg}}}
	}
	for {
		// The position before a token is where it starts: where a syntax
		// error is reported, as the start of the offending markup.
		line, col := dec.InputPos()
		offset := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return failAt(line, col, "the XML is not well-formed: "+se.Msg)
			}
			return failAt(line, col, "the XML cannot be read: "+err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return failAt(line, col, fmt.Sprintf("elements are nested more than %d deep", maxDepth))
			}
			if undeclared(t.Name.Space) {
				return failAt(line, col, fmt.Sprintf("the namespace prefix %q of <%s:%s> is not declared (xmlns:%s=\"...\")", t.Name.Space, t.Name.Space, t.Name.Local, t.Name.Space))
			}
			n := &Node{Space: t.Name.Space, Local: t.Name.Local, Line: line, Col: col, Attrs: make([]xml.Attr, 0, len(t.Attr))}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				if undeclared(a.Name.Space) {
					return failAt(line, col, fmt.Sprintf("the namespace prefix %q of the attribute %s:%s is not declared (xmlns:%s=\"...\")", a.Name.Space, a.Name.Space, a.Name.Local, a.Name.Space))
				}
				n.Attrs = append(n.Attrs, a)
			}
			switch {
			case len(stack) > 0:
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, n)
			case root != nil:
				return failAt(line, col, "the XML is not well-formed: a second root element <"+t.Name.Local+">")
			default:
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if l, c, ok := firstNonBlank(t, line, col); ok {
					return failAt(l, c, "the XML is not well-formed: text outside the root element")
				}
				continue
			}
			n := stack[len(stack)-1]
			if n.TextLine == 0 {
				l, c, ok := firstNonBlank(t, line, col)
				if !ok {
					continue // keep no blank text before the first content
				}
				n.TextLine, n.TextCol = l, c
				n.TextOffset = skipBlanks(src, int(offset))
			}
			n.Text += string(t)
		}
	}
	if root == nil {
		return nil, &Error{Problems: []Problem{{Line: 1, Col: 1, Message: "the document has no root element"}}}
	}
	if root.Space != nsBPMN || root.Local != "definitions" {
		return nil, &Error{Problems: []Problem{{Line: root.Line, Col: root.Col, Message: fmt.Sprintf(
			"the document is not BPMN 2.0: its root element is <%s> in namespace %q, expected <definitions> in namespace %q",
			root.Local, root.Space, nsBPMN)}}}
	}
	defs := &Definitions{
		ID:                       root.ID(),
		Name:                     root.Attr("name"),
		TargetNamespace:          root.Attr("targetNamespace"),
		Exporter:                 root.Attr("exporter"),
		ExporterVersion:          root.Attr("exporterVersion"),
		ExecutionPlatform:        root.AttrNS(nsModeler, "executionPlatform"),
		ExecutionPlatformVersion: root.AttrNS(nsModeler, "executionPlatformVersion"),
		Root:                     root,
		Source:                   src,
	}
	for _, c := range root.Children {
		if c.Space == nsBPMNDI && c.Local == "BPMNDiagram" {
			defs.Diagrams = append(defs.Diagrams, readDiagram(c))
		}
	}
	return defs, nil
}

// undeclared reports a namespace that encoding/xml left as a bare prefix
// because no xmlns declared it (a URI has a ':' in it).
func undeclared(space string) bool {
	return space != "" && !strings.Contains(space, ":")
}

// skipBlanks returns the offset of the first non-blank byte of src at or
// after i.
func skipBlanks(src []byte, i int) int {
	for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r' || src[i] == '\n') {
		i++
	}
	return i
}

// firstNonBlank returns the position of the first non-blank byte of text
// that starts at line:col.
func firstNonBlank(text []byte, line, col int) (int, int, bool) {
	for _, b := range text {
		switch b {
		case '\n':
			line, col = line+1, 1
		case ' ', '\t', '\r':
			col++
		default:
			return line, col, true
		}
	}
	return 0, 0, false
}

package bpmn

import (
	"fmt"
	"sort"
)

// Deployment is a loaded model: the document and its executable processes.
type Deployment struct {
	Definitions *Definitions
	Processes   []*Process
}

// Load parses, checks and compiles a BPMN document. Problems come back as a
// *Error listing all of them.
func Load(src []byte) (*Deployment, error) {
	defs, err := parseBytes(src)
	if err != nil {
		return nil, err
	}
	procs, err := Compile(defs)
	if err != nil {
		return nil, err
	}
	return &Deployment{Definitions: defs, Processes: procs}, nil
}

// Compile checks a parsed document and compiles its executable processes
// (isExecutable="true"), in document order. It reports every problem it
// finds as one *Error.
func Compile(defs *Definitions) ([]*Process, error) {
	c := &compiler{
		defs:        defs,
		ids:         map[string]*Node{},
		globals:     map[string]map[string]*Node{},
		messages:    map[string]*Message{},
		errors:      map[string]*BPMNError{},
		escalations: map[string]*Escalation{},
		signals:     map[string]*Signal{},
		unsupported: map[string]bool{},
		failedFEEL:  map[*Expression]bool{},
	}
	c.collectIDs(defs.Root)
	var procs []*Process
	executable := 0
	for _, n := range defs.Root.Children {
		if n.Space != nsBPMN {
			continue // the diagram, and other tools' elements
		}
		switch n.Local {
		case "process":
			if n.Attr("isExecutable") != "true" {
				continue // a pool drawn for documentation
			}
			executable++
			if p := c.compileProcess(n); p != nil {
				procs = append(procs, p)
			}
		case "collaboration":
			c.checkCollaboration(n)
		case "message", "error", "signal", "escalation",
			// declarations that execute nothing
			"itemDefinition", "dataStore", "category", "interface", "resource", "import",
			"extension", "documentation", "extensionElements", "relationship", "endPoint",
			"partnerEntity", "partnerRole":
		default:
			c.notSupported(n, n.Local)
		}
	}
	if executable == 0 {
		c.problems = append(c.problems, Problem{ElementID: defs.ID, Line: defs.Root.Line, Col: defs.Root.Col,
			Message: `the model has no executable process (a process with isExecutable="true")`})
	}
	if len(c.problems) > 0 {
		sort.SliceStable(c.problems, func(i, j int) bool {
			a, b := c.problems[i], c.problems[j]
			return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
		})
		return nil, &Error{Problems: c.problems}
	}
	return procs, nil
}

// compiler holds what the whole document shares while compiling.
type compiler struct {
	defs     *Definitions
	problems []Problem
	// ids maps every id in the document to its element.
	ids map[string]*Node
	// globals maps the local name of a root element (message, error, ...)
	// to those elements by id.
	globals map[string]map[string]*Node
	// The compiled root elements, shared by every element referring to
	// them (they are immutable).
	messages    map[string]*Message
	errors      map[string]*BPMNError
	escalations map[string]*Escalation
	signals     map[string]*Signal
	// unsupported holds the ids of elements reported "not supported".
	unsupported map[string]bool
	// failedFEEL holds the expressions whose FEEL was reported unreadable.
	failedFEEL map[*Expression]bool
}

// problem records a problem about the element n (whose id it reports).
func (c *compiler) problem(n *Node, format string, args ...any) {
	c.problems = append(c.problems, Problem{ElementID: n.ID(), Line: n.Line, Col: n.Col, Message: fmt.Sprintf(format, args...)})
}

// problemAt records a problem about element id at a position of its own
// (an expression's text, an extension element).
func (c *compiler) problemAt(id string, line, col int, format string, args ...any) {
	c.problems = append(c.problems, Problem{ElementID: id, Line: line, Col: col, Message: fmt.Sprintf(format, args...)})
}

// notSupported records an element Eddy does not execute. what is the
// element's name; the id reported is the id of owner (the element itself,
// or the element that carries it when it has none).
func (c *compiler) notSupported(n *Node, what string) {
	c.notSupportedIn(n, n, what)
}

func (c *compiler) notSupportedIn(n, owner *Node, what string) {
	id := n.ID()
	if id == "" {
		id = owner.ID()
	}
	// Problems that follow from this one (a flow to an unsupported
	// gateway, a start event whose definition was dropped) would only be
	// noise: remember the element so the checks leave it alone.
	c.unsupported[owner.ID()] = true
	c.problems = append(c.problems, Problem{ElementID: id, Line: n.Line, Col: n.Col, Message: fmt.Sprintf("not supported: %s %s", what, id)})
}

// collectIDs indexes every id of the document, reporting duplicates, and
// the root elements that others refer to by id.
func (c *compiler) collectIDs(root *Node) {
	var walk func(n *Node)
	walk = func(n *Node) {
		if id := n.ID(); id != "" {
			if first, dup := c.ids[id]; dup {
				c.problem(n, "the id %q is already used by the %s at %d:%d", id, first.Local, first.Line, first.Col)
			} else {
				c.ids[id] = n
			}
		}
		for _, ch := range n.Children {
			walk(ch)
		}
	}
	walk(root)
	for _, n := range root.Children {
		if n.Space != nsBPMN {
			continue
		}
		switch n.Local {
		case "message", "error", "signal", "escalation":
			m := c.globals[n.Local]
			if m == nil {
				m = map[string]*Node{}
				c.globals[n.Local] = m
			}
			if id := n.ID(); id != "" {
				m[id] = n
			}
		}
	}
}

// checkCollaboration accepts what a collaboration may draw: pools, message
// flows and annotations execute nothing.
func (c *compiler) checkCollaboration(n *Node) {
	for _, ch := range n.Children {
		if ch.Space != nsBPMN {
			continue
		}
		switch ch.Local {
		case "participant", "messageFlow", "documentation", "extensionElements",
			"textAnnotation", "association", "group":
		default:
			c.notSupported(ch, ch.Local)
		}
	}
}

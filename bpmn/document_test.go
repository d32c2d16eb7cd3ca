package bpmn

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

const header = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

func TestParseErrors(t *testing.T) {
	deepOpen := `<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">` + strings.Repeat("<a>", maxDepth-1)
	deep := header + deepOpen + strings.Repeat("<a>", 10) + strings.Repeat("</a>", maxDepth+9) + `</bpmn:definitions>`
	for _, tc := range []struct {
		name, src, want string
	}{
		{"empty", "", "1:1: the document has no root element"},
		{"only a declaration", header, "1:1: the document has no root element"},
		{"unclosed", header + "<definitions>\n  <process>", "3:12: the XML is not well-formed: unexpected EOF"},
		{"mismatched", header + "<a>\n  <b></c>\n</a>", "3:6: the XML is not well-formed: element <b> closed by </c>"},
		{"bad attribute", header + "<a>\n  <b x=1/>\n</a>", "3:3: the XML is not well-formed: unquoted or missing attribute value in element"},
		{"bad entity", header + "<a>&nope;</a>", "2:4: the XML is not well-formed: invalid character entity &nope;"},
		{"two roots", header + "<a/>\n<b/>", "3:1: the XML is not well-formed: a second root element <b>"},
		{"text after root", header + "<a/>\n  oops", "3:3: the XML is not well-formed: text outside the root element"},
		{"not bpmn", header + `<foo xmlns="urn:x"/>`, `2:1: the document is not BPMN 2.0: its root element is <foo> in namespace "urn:x", expected <definitions> in namespace "http://www.omg.org/spec/BPMN/20100524/MODEL"`},
		{"undeclared prefix", header + `<bpmn:definitions id="d"/>`, `2:1: the namespace prefix "bpmn" of <bpmn:definitions> is not declared (xmlns:bpmn="...")`},
		{"undeclared attribute prefix", header + `<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xsi:type="x"/>`, `2:1: the namespace prefix "xsi" of the attribute xsi:type is not declared (xmlns:xsi="...")`},
		{"encoding", `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, `1:1: the XML cannot be read: xml: opening charset "ISO-8859-1": the encoding "ISO-8859-1" is not supported, save the model as UTF-8`},
		{"too deep", deep, fmt.Sprintf("2:%d: elements are nested more than 256 deep", len(deepOpen)+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.src))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want a *Error", err, err)
			}
			if len(e.Problems) != 1 || e.Error() != tc.want {
				t.Errorf("got  %q\nwant %q", e.Error(), tc.want)
			}
		})
	}
}

func TestParseKeepsDocument(t *testing.T) {
	src, err := os.ReadFile("testdata/valid/tasks.bpmn")
	if err != nil {
		t.Fatal(err)
	}
	defs, err := Parse(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(defs.Source, src) {
		t.Error("Source is not the document as read")
	}
	if defs.ID != "Definitions_tasks" || defs.Exporter != "Camunda Modeler" || defs.ExporterVersion != "5.16.0" ||
		defs.ExecutionPlatform != "Camunda Cloud" || defs.ExecutionPlatformVersion != "8.3.0" ||
		defs.TargetNamespace != "http://bpmn.io/schema/bpmn" {
		t.Errorf("header %+v", defs)
	}
	if r := defs.Root; r.Line != 2 || r.Col != 1 || r.Local != "definitions" || r.Space != nsBPMN {
		t.Errorf("root %s %s at %d:%d", r.Space, r.Local, r.Line, r.Col)
	}
	proc := defs.Root.Children[0]
	if proc.Local != "process" || proc.ID() != "tasks" || proc.Line != 3 || proc.Col != 3 || !proc.HasAttr("isExecutable") || proc.HasAttr("nope") {
		t.Errorf("process node %+v", proc)
	}
	if len(defs.Diagrams) != 1 {
		t.Fatalf("diagrams %+v", defs.Diagrams)
	}
	d := defs.Diagrams[0]
	if d.ID != "BPMNDiagram_1" || d.Element != "tasks" || len(d.Shapes) != 2 || len(d.Edges) != 1 {
		t.Fatalf("diagram %+v", d)
	}
	if s := d.Shapes[0]; s.ID != "_BPMNShape_start" || s.Element != "start" || s.Bounds != (Bounds{152, 102, 36, 36}) || s.Label != nil {
		t.Errorf("shape %+v", s)
	}
	if s := d.Shapes[1]; s.Element != "charge" || s.Bounds != (Bounds{240, 80, 100, 80}) || s.Label == nil || *s.Label != (Bounds{250, 165, 80, 14}) {
		t.Errorf("shape %+v", s)
	}
	if e := d.Edges[0]; e.Element != "f1" || len(e.Waypoints) != 3 || e.Waypoints[1] != (Point{214.5, 120}) {
		t.Errorf("edge %+v", e)
	}
}

func TestProblemFormat(t *testing.T) {
	e := &Error{Problems: []Problem{
		{ElementID: "Task_1", Line: 12, Col: 5, Message: "the service task has no job type"},
		{Line: 3, Col: 1, Message: "no element"},
		{ElementID: "Flow_1", Message: "no position"},
	}}
	want := "12:5: Task_1: the service task has no job type\n3:1: no element\nFlow_1: no position"
	if e.Error() != want {
		t.Errorf("got %q, want %q", e.Error(), want)
	}
}

func TestExpressionValues(t *testing.T) {
	for _, tc := range []struct {
		written string
		source  string
		static  bool
	}{
		{"=a + b", "a + b", false},
		{"  =x", "x", false},
		{"literal", "literal", true},
		{"", "", true},
		{"a=b", "a=b", true},
	} {
		e := valueOf(tc.written, 1, 2)
		if e.Source != tc.source || e.Static != tc.static || e.Line != 1 || e.Col != 2 {
			t.Errorf("valueOf(%q) = %+v", tc.written, e)
		}
		if tc.written != "" && strings.TrimLeft(tc.written, " ") != e.String() {
			t.Errorf("%+v prints as %q", e, e.String())
		}
	}
	var none *Expression
	if !none.IsZero() || none.String() != "" || !(&Expression{Static: true}).IsZero() || (&Expression{}).IsZero() {
		t.Error("IsZero")
	}
}

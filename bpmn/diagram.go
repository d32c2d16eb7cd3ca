package bpmn

import "strconv"

// Diagram is one bpmndi:BPMNDiagram: what a renderer draws.
type Diagram struct {
	ID string
	// Element is the id of the process or collaboration the plane shows.
	Element string
	Shapes  []Shape
	Edges   []Edge
}

// Bounds is a rectangle in diagram coordinates.
type Bounds struct {
	X, Y, Width, Height float64
}

// Point is a diagram coordinate.
type Point struct {
	X, Y float64
}

// Shape draws one element (bpmndi:BPMNShape).
type Shape struct {
	ID       string
	Element  string // the id of the BPMN element drawn
	Bounds   Bounds
	Expanded bool    // isExpanded, for subprocesses
	Label    *Bounds // the label's bounds, when the modeler placed it
}

// Edge draws one sequence flow, association or message flow
// (bpmndi:BPMNEdge).
type Edge struct {
	ID        string
	Element   string
	Waypoints []Point
	Label     *Bounds
}

// readDiagram reads a BPMNDiagram. Numbers that cannot be read count as
// 0: Zeebe does not check the drawing, and neither do we.
func readDiagram(n *Node) Diagram {
	d := Diagram{ID: n.ID()}
	for _, plane := range n.Children {
		if plane.Space != nsBPMNDI || plane.Local != "BPMNPlane" {
			continue
		}
		d.Element = plane.Attr("bpmnElement")
		for _, c := range plane.Children {
			switch {
			case c.Space == nsBPMNDI && c.Local == "BPMNShape":
				s := Shape{ID: c.ID(), Element: c.Attr("bpmnElement"), Expanded: c.Attr("isExpanded") == "true"}
				for _, g := range c.Children {
					if b, ok := readBounds(g); ok {
						s.Bounds = b
					} else if l, ok := readLabel(g); ok {
						s.Label = l
					}
				}
				d.Shapes = append(d.Shapes, s)
			case c.Space == nsBPMNDI && c.Local == "BPMNEdge":
				e := Edge{ID: c.ID(), Element: c.Attr("bpmnElement")}
				for _, g := range c.Children {
					if g.Space == nsDI && g.Local == "waypoint" {
						e.Waypoints = append(e.Waypoints, Point{number(g.Attr("x")), number(g.Attr("y"))})
					} else if l, ok := readLabel(g); ok {
						e.Label = l
					}
				}
				d.Edges = append(d.Edges, e)
			}
		}
	}
	return d
}

func readBounds(n *Node) (Bounds, bool) {
	if n.Space != nsDC || n.Local != "Bounds" {
		return Bounds{}, false
	}
	return Bounds{number(n.Attr("x")), number(n.Attr("y")), number(n.Attr("width")), number(n.Attr("height"))}, true
}

func readLabel(n *Node) (*Bounds, bool) {
	if n.Space != nsBPMNDI || n.Local != "BPMNLabel" {
		return nil, false
	}
	for _, g := range n.Children {
		if b, ok := readBounds(g); ok {
			return &b, true
		}
	}
	return nil, true
}

func number(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

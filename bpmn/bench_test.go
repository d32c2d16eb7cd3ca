package bpmn

import (
	"os"
	"testing"
)

// BenchmarkLoad parses, checks and compiles tickets-v4.bpmn (the model of
// seed 003: 15 elements, 11 flows, its diagram, 20 FEEL expressions).
func BenchmarkLoad(b *testing.B) {
	src, err := os.ReadFile("testdata/seed-tickets/tickets-v4.bpmn")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Load(src); err != nil {
			b.Fatal(err)
		}
	}
}

// walk visits what the engine reads when it leaves each element: the
// outgoing flows, their conditions and targets, the default flow and the
// boundary events. It returns a count so the work is not optimised away.
func walk(p *Process) int {
	n := 0
	for i := range p.Elements {
		e := p.Element(ElementIndex(i))
		for _, f := range e.Outgoing {
			fl := p.Flow(f)
			if fl.Condition != nil && fl.Condition.Compiled != nil && f != e.DefaultFlow {
				n++
			}
			if p.Element(fl.Target).Kind == KindEndEvent {
				n++
			}
		}
		for _, b := range e.Boundaries {
			if p.Element(b).Interrupting {
				n++
			}
		}
	}
	return n
}

// BenchmarkWalk follows every outgoing flow and boundary event of
// tickets-v4: the engine's hot path through the model.
func BenchmarkWalk(b *testing.B) {
	p := loadFile(b, "testdata/seed-tickets/tickets-v4.bpmn").Processes[0]
	b.ReportAllocs()
	for b.Loop() {
		if walk(p) == 0 {
			b.Fatal("nothing walked")
		}
	}
}

// BenchmarkLookup finds an element by id (a job completion names it).
func BenchmarkLookup(b *testing.B) {
	p := loadFile(b, "testdata/seed-tickets/tickets-v4.bpmn").Processes[0]
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := p.Lookup("Activity_1qktir3"); !ok {
			b.Fatal("not found")
		}
	}
}

// TestWalkAllocatesNothing pins the promise of the compiled model: the
// engine walks it without allocating.
func TestWalkAllocatesNothing(t *testing.T) {
	p := loadFile(t, "testdata/seed-tickets/tickets-v4.bpmn").Processes[0]
	if want := 2 + 3 + 1; walk(p) != want {
		t.Fatalf("walk counted %d, want %d (2 conditions, 3 flows into end events, 1 interrupting boundary)", walk(p), want)
	}
	if a := testing.AllocsPerRun(100, func() { walk(p) }); a != 0 {
		t.Errorf("walking the graph allocates %v times", a)
	}
	if a := testing.AllocsPerRun(100, func() { p.Lookup("Activity_1qktir3") }); a != 0 {
		t.Errorf("Lookup allocates %v times", a)
	}
}

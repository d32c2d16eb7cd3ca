package bpmn

// processBuilder compiles one process.
type processBuilder struct {
	c *compiler
	p *Process
	// node is the XML element of each element, by index.
	node []*Node
	// flowNode and flowScope are the XML element and the scope of each
	// flow, by index; flows are resolved once every element is known.
	flowNode  []*Node
	flowScope []ElementIndex
}

// flowNodeKinds maps the BPMN element names of flow nodes to their kinds.
var flowNodeKinds = map[string]Kind{
	"startEvent":             KindStartEvent,
	"endEvent":               KindEndEvent,
	"intermediateCatchEvent": KindIntermediateCatchEvent,
	"intermediateThrowEvent": KindIntermediateThrowEvent,
	"boundaryEvent":          KindBoundaryEvent,
	"serviceTask":            KindServiceTask,
	"userTask":               KindUserTask,
	"receiveTask":            KindReceiveTask,
	"sendTask":               KindSendTask,
	"scriptTask":             KindScriptTask,
	"businessRuleTask":       KindBusinessRuleTask,
	"manualTask":             KindManualTask,
	"task":                   KindTask,
	"exclusiveGateway":       KindExclusiveGateway,
	"parallelGateway":        KindParallelGateway,
	"inclusiveGateway":       KindInclusiveGateway,
	"eventBasedGateway":      KindEventBasedGateway,
	"subProcess":             KindSubProcess,
	"callActivity":           KindCallActivity,
}

// scopeChildrenSkipped are children of a process or subprocess that are
// not elements of the graph: they belong to the element itself (read by
// readElement) or are drawn for documentation only.
var scopeChildrenSkipped = map[string]bool{
	"incoming": true, "outgoing": true, "extensionElements": true, "documentation": true,
	"multiInstanceLoopCharacteristics": true, "standardLoopCharacteristics": true,
	"ioSpecification": true, "property": true, "dataInputAssociation": true, "dataOutputAssociation": true,
	"laneSet": true, "textAnnotation": true, "association": true, "group": true,
	"dataObject": true, "dataObjectReference": true, "dataStoreReference": true,
	"auditing": true, "monitoring": true, "categoryValue": true,
}

// compileProcess builds and checks one executable process; it returns nil
// when the process has problems (they are recorded on the compiler).
func (c *compiler) compileProcess(n *Node) *Process {
	before := len(c.problems)
	p := &Process{
		ID: n.ID(), Name: n.Attr("name"), Line: n.Line, Col: n.Col,
		ByID: map[string]ElementIndex{}, FlowByID: map[string]FlowIndex{},
		NoneStart: NoElement,
	}
	if p.ID == "" {
		c.problem(n, "the process has no id")
	}
	b := &processBuilder{c: c, p: p}
	b.add(n, KindProcess, NoElement)
	b.readProcessExtensions(n)
	b.walkScope(RootIndex, n)
	b.resolveFlows()
	b.check()
	b.compileFEEL()
	if len(c.problems) > before {
		return nil
	}
	return p
}

// add appends a new element for n and returns its index.
func (b *processBuilder) add(n *Node, kind Kind, parent ElementIndex) ElementIndex {
	p := b.p
	i := ElementIndex(len(p.Elements))
	p.Elements = append(p.Elements, Element{
		Index: i, ID: n.ID(), Name: n.Attr("name"), Kind: kind, Line: n.Line, Col: n.Col,
		Parent: parent, DefaultFlow: NoFlow, NoneStart: NoElement, AttachedTo: NoElement, LinkTarget: NoElement,
	})
	b.node = append(b.node, n)
	if id := n.ID(); id == "" {
		b.c.problem(n, "the %s has no id", n.Local)
	} else if _, dup := p.ByID[id]; !dup {
		p.ByID[id] = i
	}
	if parent != NoElement {
		p.Elements[parent].Children = append(p.Elements[parent].Children, i)
	}
	return i
}

// walkScope adds the elements and flows directly inside the scope n.
func (b *processBuilder) walkScope(scope ElementIndex, n *Node) {
	for _, ch := range n.Children {
		if ch.Space != nsBPMN {
			if ch.Space != nsBPMNDI && ch.Space != nsZeebe {
				continue // another tool's annotation
			}
			b.c.notSupportedIn(ch, n, ch.Local)
			continue
		}
		if ch.Local == "sequenceFlow" {
			b.addFlow(ch, scope)
			continue
		}
		if scopeChildrenSkipped[ch.Local] {
			continue
		}
		kind, ok := flowNodeKinds[ch.Local]
		if !ok {
			b.c.notSupported(ch, ch.Local)
			continue
		}
		if kind == KindSubProcess && ch.Attr("triggeredByEvent") == "true" {
			kind = KindEventSubProcess
		}
		i := b.add(ch, kind, scope)
		b.readElement(i, ch)
		if kind == KindSubProcess || kind == KindEventSubProcess {
			b.walkScope(i, ch)
		}
	}
}

// addFlow records a sequence flow; its ends are resolved later.
func (b *processBuilder) addFlow(n *Node, scope ElementIndex) {
	p := b.p
	i := FlowIndex(len(p.Flows))
	f := Flow{Index: i, ID: n.ID(), Name: n.Attr("name"), Source: NoElement, Target: NoElement, Line: n.Line, Col: n.Col}
	for _, ch := range n.Children {
		if ch.Space == nsBPMN && ch.Local == "conditionExpression" {
			f.Condition = expressionText(ch)
		}
	}
	p.Flows = append(p.Flows, f)
	b.flowNode = append(b.flowNode, n)
	b.flowScope = append(b.flowScope, scope)
	if f.ID == "" {
		b.c.problem(n, "the sequence flow has no id")
	} else if _, dup := p.FlowByID[f.ID]; !dup {
		p.FlowByID[f.ID] = i
	}
}

// resolveFlows links every flow to its source and target.
func (b *processBuilder) resolveFlows() {
	p := b.p
	for i := range p.Flows {
		f, n := &p.Flows[i], b.flowNode[i]
		f.Source = b.flowEnd(n, "sourceRef", b.flowScope[i])
		f.Target = b.flowEnd(n, "targetRef", b.flowScope[i])
		if f.Source != NoElement {
			p.Elements[f.Source].Outgoing = append(p.Elements[f.Source].Outgoing, f.Index)
		}
		if f.Target != NoElement {
			p.Elements[f.Target].Incoming = append(p.Elements[f.Target].Incoming, f.Index)
		}
	}
}

// flowEnd resolves the source or target of flow n, declared in scope.
func (b *processBuilder) flowEnd(n *Node, attr string, scope ElementIndex) ElementIndex {
	end := "source"
	if attr == "targetRef" {
		end = "target"
	}
	ref := n.Attr(attr)
	if ref == "" {
		b.c.problem(n, "the sequence flow has no %s (%s)", end, attr)
		return NoElement
	}
	i, ok := b.p.ByID[ref]
	if !ok && b.c.unsupported[ref] {
		return NoElement
	}
	if !ok {
		if other, exists := b.c.ids[ref]; exists {
			b.c.problem(n, "the sequence flow's %s %q is a %s, not an element of this process it can connect", end, ref, other.Local)
		} else {
			b.c.problem(n, "the sequence flow's %s %q does not exist", end, ref)
		}
		return NoElement
	}
	if i == RootIndex {
		b.c.problem(n, "the sequence flow's %s %q is the process itself", end, ref)
		return NoElement
	}
	if b.p.Elements[i].Parent != scope {
		b.c.problem(n, "the sequence flow's %s %q is in another scope: a sequence flow cannot cross the border of a subprocess", end, ref)
		return NoElement
	}
	return i
}

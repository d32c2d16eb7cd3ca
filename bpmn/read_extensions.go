package bpmn

import "strings"

// userTaskJobType is the job type of Zeebe 8.3's user tasks, which a task
// list works on like any job worker.
const userTaskJobType = "io.camunda.zeebe:userTask"

// extensionElements returns the zeebe: children of n's extensionElements.
// Other tools' extensions are left alone, as Zeebe does.
func extensionElements(n *Node) []*Node {
	var out []*Node
	for _, ch := range n.Children {
		if ch.Space == nsBPMN && ch.Local == "extensionElements" {
			for _, x := range ch.Children {
				if x.Space == nsZeebe {
					out = append(out, x)
				}
			}
		}
	}
	return out
}

// readProcessExtensions reads the extensions of the process element.
func (b *processBuilder) readProcessExtensions(n *Node) {
	for _, x := range extensionElements(n) {
		switch x.Local {
		case "userTaskForm":
			if b.p.Forms == nil {
				b.p.Forms = map[string]string{}
			}
			b.p.Forms[x.ID()] = strings.TrimSpace(x.Text)
		case "versionTag":
			b.p.VersionTag = x.Attr("value")
		case "properties":
			b.p.Elements[RootIndex].Properties = readProperties(x)
		default:
			b.c.notSupportedIn(x, n, "zeebe:"+x.Local)
		}
	}
}

// readExtensions reads the zeebe: extensions of element i.
func (b *processBuilder) readExtensions(i ElementIndex, n *Node) {
	el := &b.p.Elements[i]
	for _, x := range extensionElements(n) {
		switch x.Local {
		case "taskDefinition":
			retries := attrValue(x, "retries")
			if retries.IsZero() {
				retries = Expression{Source: "3", Static: true, Line: x.Line, Col: x.Col}
			}
			el.TaskDefinition = &TaskDefinition{Type: attrValue(x, "type"), Retries: retries}
		case "taskHeaders":
			for _, h := range x.Children {
				if h.Space == nsZeebe && h.Local == "header" {
					el.TaskHeaders = append(el.TaskHeaders, Header{Key: h.Attr("key"), Value: h.Attr("value")})
				}
			}
		case "ioMapping":
			b.readMappings(el, x)
		case "calledElement":
			el.CalledElement = &CalledElement{
				ProcessID:                   attrValue(x, "processId"),
				PropagateAllChildVariables:  x.Attr("propagateAllChildVariables") != "false",
				PropagateAllParentVariables: x.Attr("propagateAllParentVariables") != "false",
			}
		case "calledDecision":
			el.CalledDecision = &CalledDecision{DecisionID: attrValue(x, "decisionId"), ResultVariable: x.Attr("resultVariable")}
		case "script":
			el.Script = &Script{Expression: attrValue(x, "expression"), ResultVariable: x.Attr("resultVariable")}
		case "assignmentDefinition":
			u := userTaskOf(el)
			u.Assignee = optionalAttrValue(x, "assignee")
			u.CandidateGroups = optionalAttrValue(x, "candidateGroups")
			u.CandidateUsers = optionalAttrValue(x, "candidateUsers")
		case "taskSchedule":
			u := userTaskOf(el)
			u.DueDate = optionalAttrValue(x, "dueDate")
			u.FollowUpDate = optionalAttrValue(x, "followUpDate")
		case "formDefinition":
			u := userTaskOf(el)
			u.FormKey, u.FormID = x.Attr("formKey"), x.Attr("formId")
		case "properties":
			el.Properties = readProperties(x)
		default:
			b.c.notSupportedIn(x, n, "zeebe:"+x.Local)
		}
	}
	if el.Kind == KindUserTask {
		// Zeebe 8.3 runs a user task as a job of a fixed type.
		userTaskOf(el)
		if el.TaskDefinition == nil {
			el.TaskDefinition = &TaskDefinition{
				Type:    Expression{Source: userTaskJobType, Static: true, Line: n.Line, Col: n.Col},
				Retries: Expression{Source: "1", Static: true, Line: n.Line, Col: n.Col},
			}
		}
	}
}

func userTaskOf(el *Element) *UserTaskDefinition {
	if el.UserTask == nil {
		el.UserTask = &UserTaskDefinition{}
	}
	return el.UserTask
}

func (b *processBuilder) readMappings(el *Element, x *Node) {
	for _, m := range x.Children {
		if m.Space != nsZeebe {
			continue
		}
		mp := Mapping{Source: attrValue(m, "source"), Target: m.Attr("target")}
		switch m.Local {
		case "input":
			el.Inputs = append(el.Inputs, mp)
		case "output":
			el.Outputs = append(el.Outputs, mp)
		default:
			b.c.notSupported(m, "zeebe:"+m.Local)
			continue
		}
		if mp.Target == "" {
			b.c.problemAt(el.ID, m.Line, m.Col, "the %s mapping from %q has no target variable", m.Local, mp.Source.String())
		}
	}
}

func readProperties(x *Node) []Property {
	var ps []Property
	for _, p := range x.Children {
		if p.Space == nsZeebe && p.Local == "property" {
			ps = append(ps, Property{Name: p.Attr("name"), Value: p.Attr("value")})
		}
	}
	return ps
}

// readMultiInstance reads multiInstanceLoopCharacteristics.
func (b *processBuilder) readMultiInstance(i ElementIndex, owner, n *Node) {
	mi := &MultiInstance{
		Sequential:      n.Attr("isSequential") == "true",
		InputCollection: Expression{Static: true, Line: n.Line, Col: n.Col}, // none yet
	}
	for _, ch := range n.Children {
		switch {
		case ch.Space == nsBPMN && ch.Local == "completionCondition":
			mi.CompletionCondition = expressionText(ch)
		case ch.Space == nsBPMN && ch.Local == "loopCardinality":
			b.c.notSupportedIn(ch, owner, "loopCardinality")
		}
	}
	found := false
	for _, x := range extensionElements(n) {
		if x.Local != "loopCharacteristics" {
			b.c.notSupportedIn(x, owner, "zeebe:"+x.Local)
			continue
		}
		found = true
		mi.InputCollection = attrValue(x, "inputCollection")
		mi.InputElement = x.Attr("inputElement")
		mi.OutputCollection = x.Attr("outputCollection")
		mi.OutputElement = optionalAttrValue(x, "outputElement")
	}
	if !found || mi.InputCollection.IsZero() {
		b.c.problem(owner, "the multi-instance activity has no input collection (zeebe:loopCharacteristics inputCollection)")
	}
	if mi.OutputCollection != "" && mi.OutputElement == nil {
		b.c.problem(owner, "the multi-instance activity has an output collection but no output element")
	}
	if mi.OutputCollection == "" && mi.OutputElement != nil {
		b.c.problem(owner, "the multi-instance activity has an output element but no output collection")
	}
	b.p.Elements[i].MultiInstance = mi
}

package engine

import (
	"fmt"

	"eddy/bpmn"
)

// chooseFlows picks an exclusive or inclusive gateway's outgoing flows:
// the first (exclusive) or every (inclusive) flow whose condition holds,
// else the default flow. No flow to take is an incident, as in Zeebe: of
// type CONDITION_ERROR, or EXTRACT_VALUE_ERROR when a condition fails to
// evaluate (errType says which).
func (c *Core) chooseFlows(inst *elementInstance, proc *bpmn.Process, el *bpmn.Element) (flows []int32, errType string, err error) {
	if len(el.Outgoing) == 1 && proc.Flow(el.Outgoing[0]).Condition == nil {
		return []int32{int32(el.Outgoing[0])}, "", nil
	}
	var chosen []int32
	for _, f := range el.Outgoing {
		flow := proc.Flow(f)
		if flow.Default || f == el.DefaultFlow {
			continue
		}
		if flow.Condition == nil {
			// Validation refuses this for exclusive gateways; an inclusive
			// gateway's flow without a condition is always taken.
			chosen = append(chosen, int32(f))
		} else {
			ok, err := c.evalBool(flow.Condition, inst.Key)
			if err != nil {
				return nil, "EXTRACT_VALUE_ERROR", fmt.Errorf("condition of sequence flow '%s': %v", flow.ID, err)
			}
			if ok {
				chosen = append(chosen, int32(f))
			}
		}
		if len(chosen) > 0 && el.Kind == bpmn.KindExclusiveGateway {
			return chosen, "", nil
		}
	}
	if len(chosen) > 0 {
		return chosen, "", nil
	}
	if el.DefaultFlow != bpmn.NoFlow {
		return []int32{int32(el.DefaultFlow)}, "", nil
	}
	return nil, "CONDITION_ERROR", fmt.Errorf("Expected at least one condition to evaluate to true, or to have a default flow, but no condition of gateway '%s' was true and it has no default flow", el.ID)
}

// outgoing returns the flows taken when inst completes.
func (c *Core) outgoing(inst *elementInstance, proc *bpmn.Process, el *bpmn.Element) ([]bpmn.FlowIndex, error) {
	if inst.Key == inst.Value.ProcessInstanceKey {
		return nil, nil
	}
	switch el.Kind {
	case bpmn.KindExclusiveGateway, bpmn.KindInclusiveGateway, bpmn.KindEventBasedGateway:
		flows := make([]bpmn.FlowIndex, len(inst.Flows))
		for i, f := range inst.Flows {
			flows[i] = bpmn.FlowIndex(f)
		}
		return flows, nil
	}
	scope := c.st.elements.get(inst.Value.FlowScopeKey)
	if scope != nil && c.isInnerInstance(scope, inst.Value.Element) {
		// An inner instance of a multi-instance activity returns to its body.
		return nil, nil
	}
	return el.Outgoing, nil
}

// isJoin reports whether tokens arriving at el must wait for each other.
func (c *Core) isJoin(el *bpmn.Element) bool {
	return len(el.Incoming) > 1 && (el.Kind == bpmn.KindParallelGateway || el.Kind == bpmn.KindInclusiveGateway)
}

// join records a token arriving at a joining gateway over flow, and reports
// whether the gateway may now activate (consuming one token per incoming
// flow that has one). A parallel gateway waits for every incoming flow; an
// inclusive one for the flows that can still be taken: it activates when no
// other active element of the scope can reach it.
func (c *Core) join(scope *elementInstance, proc *bpmn.Process, el *bpmn.Element, flow int32) bool {
	if scope.Joins == nil {
		scope.Joins = map[int32]int32{}
	}
	scope.Joins[flow]++
	c.st.elements.touch(scope.Key)
	ready := true
	if el.Kind == bpmn.KindParallelGateway {
		for _, f := range el.Incoming {
			if scope.Joins[int32(f)] == 0 {
				ready = false
				break
			}
		}
	} else {
		ready = !c.canStillReach(scope, proc, el)
	}
	if !ready {
		return false // the token waits, still counted in scope.Active
	}
	for _, f := range el.Incoming {
		if scope.Joins[int32(f)] > 0 {
			scope.Joins[int32(f)]--
			if scope.Joins[int32(f)] == 0 {
				delete(scope.Joins, int32(f))
			}
			scope.Active--
		}
	}
	scope.Active++ // the gateway itself
	return true
}

// canStillReach reports whether an active child of scope, or a token queued
// for activation there, can reach gateway el along sequence flows.
func (c *Core) canStillReach(scope *elementInstance, proc *bpmn.Process, el *bpmn.Element) bool {
	var from []bpmn.ElementIndex
	for k := range c.st.children[scope.Key] {
		if child := c.st.elements.get(k); child != nil {
			from = append(from, bpmn.ElementIndex(child.Value.Element))
		}
	}
	for _, a := range c.queue[c.qi:] {
		if a.kind == actActivate && a.key == scope.Key && a.element != int32(el.Index) {
			from = append(from, bpmn.ElementIndex(a.element))
		}
	}
	seen := map[bpmn.ElementIndex]bool{}
	for len(from) > 0 {
		i := from[len(from)-1]
		from = from[:len(from)-1]
		if i == el.Index {
			return true
		}
		if seen[i] {
			continue
		}
		seen[i] = true
		for _, f := range proc.Element(i).Outgoing {
			from = append(from, proc.Flow(f).Target)
		}
	}
	return false
}

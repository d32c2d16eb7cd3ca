package engine

import (
	"container/heap"
	"fmt"
	"time"

	"eddy/bpmn"
	"eddy/bpmn/timer"
	"eddy/record"
)

// timerSchedule returns the schedule of a timer event, evaluating a FEEL
// timer in scope.
func (c *Core) timerSchedule(ev *bpmn.Element, scope int64) (*timer.Schedule, error) {
	if ev.Timer.Schedule != nil {
		return ev.Timer.Schedule, nil
	}
	s, err := c.evalString(&ev.Timer.Value, scope)
	if err != nil {
		return nil, fmt.Errorf("timer of '%s': %v", ev.ID, err)
	}
	kind := timer.Date
	switch ev.Timer.Kind {
	case bpmn.TimerDuration:
		kind = timer.Duration
	case bpmn.TimerCycle:
		kind = timer.Cycle
	}
	sched, err := timer.Parse(kind, s)
	if err != nil {
		return nil, fmt.Errorf("timer of '%s': %v", ev.ID, err)
	}
	return sched, nil
}

// scheduleTimer creates the timer of ev for inst (nil for a start timer of
// definition def).
func (c *Core) scheduleTimer(inst *elementInstance, ev *bpmn.Element, def int64) error {
	scope := int64(0)
	if inst != nil {
		scope = inst.Key
	}
	sched, err := c.timerSchedule(ev, scope)
	if err != nil {
		return err
	}
	due, ok := sched.Next(time.UnixMilli(c.now).UTC())
	if !ok {
		return fmt.Errorf("timer of '%s' (%s) is never due", ev.ID, sched)
	}
	t := &timerRow{Key: c.newKey(), Definition: def, Element: int32(ev.Index), Due: due.UnixMilli(),
		Repetitions: int32(sched.Repetitions())}
	if ev.Timer.Kind == bpmn.TimerCycle {
		t.Cycle = sched.String()
	}
	if inst != nil {
		t.ElementInstanceKey, t.ProcessInstanceKey = inst.Key, inst.Value.ProcessInstanceKey
		c.st.timersOf[inst.Key] = append(c.st.timersOf[inst.Key], t.Key)
	} else {
		c.st.startTimers[def] = append(c.st.startTimers[def], t.Key)
	}
	c.addTimer(t)
	c.event(record.Timer, record.Created, t.Key, c.timerValue(t))
	return nil
}

func (c *Core) addTimer(t *timerRow) {
	c.st.timers.put(t.Key, t)
	c.st.schedule(t.Due, dueTimer, t.Key)
}

func (c *Core) timerValue(t *timerRow) *record.Value {
	v := &record.Value{ElementInstanceKey: t.ElementInstanceKey, ProcessInstanceKey: t.ProcessInstanceKey,
		ProcessDefinitionKey: t.Definition, Deadline: t.Due, Repetitions: t.Repetitions}
	if proc := c.model(t.Definition); proc != nil && int(t.Element) < len(proc.Elements) {
		v.TargetElementID = proc.Element(bpmn.ElementIndex(t.Element)).ID
	}
	return v
}

// fireDue acts on every deadline up to now.
func (c *Core) fireDue() {
	st := c.st
	for len(st.deadlines) > 0 && st.deadlines[0].At <= c.now {
		d := popDeadline(st)
		if !c.deadlineLive(d) {
			continue
		}
		switch d.Kind {
		case dueTimer:
			c.fireTimer(st.timers.get(d.Key))
		case dueJobTimeout:
			c.jobTimedOut(st.jobs.get(d.Key))
		case dueJobBackoff:
			c.jobBackedOff(st.jobs.get(d.Key))
		case dueMessageTTL:
			c.expireMessage(st.messages.get(d.Key))
		}
	}
}

func popDeadline(st *State) deadline { return heap.Pop(&st.deadlines).(deadline) }

// deadlineLive reports whether a deadline in the heap still stands: the
// heap is not updated when a timer is cancelled or a job completes.
func (c *Core) deadlineLive(d deadline) bool {
	switch d.Kind {
	case dueTimer:
		t := c.st.timers.get(d.Key)
		return t != nil && t.Due == d.At
	case dueJobTimeout:
		j := c.st.jobs.get(d.Key)
		return j != nil && j.State == jobActivated && j.Value.Deadline == d.At
	case dueJobBackoff:
		j := c.st.jobs.get(d.Key)
		return j != nil && j.State == jobBackoff && j.Value.Deadline == d.At
	case dueMessageTTL:
		m := c.st.messages.get(d.Key)
		return m != nil && m.Deadline == d.At
	}
	return false
}

func (c *Core) fireTimer(t *timerRow) {
	c.st.timers.del(t.Key)
	c.event(record.Timer, record.Triggered, t.Key, c.timerValue(t))
	proc := c.model(t.Definition)
	if t.ElementInstanceKey == 0 {
		unindex(c.st.startTimers, t.Definition, t.Key)
		def := c.st.definitions.get(t.Definition)
		if def == nil || c.latestDefinition(def.BpmnProcessID) != def {
			return
		}
		c.startInstance(def, proc, bpmn.ElementIndex(t.Element), nil, nil)
		c.repeat(t, nil)
		return
	}
	unindex(c.st.timersOf, t.ElementInstanceKey, t.Key)
	inst := c.st.elements.get(t.ElementInstanceKey)
	if inst == nil {
		return
	}
	catcher := bpmn.ElementIndex(t.Element)
	if staysOpen(proc, catcher) {
		c.repeat(t, inst)
	}
	c.trigger(inst, catcher, nil)
}

// repeat schedules the next occurrence of a cycle timer that has some left.
func (c *Core) repeat(t *timerRow, inst *elementInstance) {
	if t.Cycle == "" || t.Repetitions == 1 || t.Repetitions == 0 {
		return
	}
	sched, err := timer.Parse(timer.Cycle, t.Cycle)
	if err != nil {
		return
	}
	due, ok := sched.Next(time.UnixMilli(t.Due).UTC())
	if !ok {
		return
	}
	n := *t
	n.Key = c.newKey()
	n.Due = due.UnixMilli()
	if n.Repetitions > 0 {
		n.Repetitions--
	}
	if inst != nil {
		c.st.timersOf[inst.Key] = append(c.st.timersOf[inst.Key], n.Key)
	} else {
		c.st.startTimers[n.Definition] = append(c.st.startTimers[n.Definition], n.Key)
	}
	c.addTimer(&n)
	c.event(record.Timer, record.Created, n.Key, c.timerValue(&n))
}

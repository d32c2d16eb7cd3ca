package engine

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"eddy/bpmn"
	"eddy/record"
)

// deploy is the DEPLOYMENT CREATE command. On the partition that receives it
// from a client, each process gets a key and version (identical content
// makes no new version) and the deployment is sent to every other partition
// (Local set), which stores the same definitions under the same keys.
func (c *Core) deploy(cmd *record.Record) Response {
	v := cmd.Value
	if v.Local {
		c.storeDistributed(&v)
		return Response{}
	}
	if len(v.Resources) == 0 {
		return c.reject(cmd, record.InvalidArgument, "Expected to deploy at least one resource, but none given")
	}
	type parsed struct {
		res   *record.Resource
		procs []*bpmn.Process
	}
	var all []parsed
	var problems []string
	seen := map[string]string{}
	for i := range v.Resources {
		res := &v.Resources[i]
		if !strings.HasSuffix(res.Name, ".bpmn") && !strings.HasSuffix(res.Name, ".xml") {
			problems = append(problems, fmt.Sprintf("'%s': Eddy deploys BPMN files (.bpmn or .xml); forms and DMN decisions are not supported yet", res.Name))
			continue
		}
		d, err := bpmn.Load(res.Content)
		if err != nil {
			problems = append(problems, fmt.Sprintf("'%s': %v", res.Name, err))
			continue
		}
		for _, p := range d.Processes {
			if other, dup := seen[p.ID]; dup {
				problems = append(problems, fmt.Sprintf("Duplicated process id in resources '%s' and '%s'", other, res.Name))
			}
			seen[p.ID] = res.Name
		}
		all = append(all, parsed{res, d.Processes})
	}
	if len(problems) > 0 {
		return c.reject(cmd, record.InvalidArgument, "Expected to deploy new resources, but encountered the following errors:\n"+strings.Join(problems, "\n"))
	}
	deploymentKey := c.newKey()
	out := v
	out.Processes = nil
	for _, p := range all {
		sum := sha256.Sum256(p.res.Content)
		for _, proc := range p.procs {
			meta := record.ProcessMeta{BpmnProcessID: proc.ID, ResourceName: p.res.Name, Checksum: sum[:]}
			if latest := c.latestDefinition(proc.ID); latest != nil && bytes.Equal(latest.Checksum, sum[:]) {
				meta.Version, meta.ProcessDefinitionKey, meta.Duplicate = latest.Version, latest.Key, true
				out.Processes = append(out.Processes, meta)
				continue
			}
			meta.Version = c.lastVersion(proc.ID) + 1
			meta.ProcessDefinitionKey = c.newKey()
			def := &definition{Key: meta.ProcessDefinitionKey, BpmnProcessID: proc.ID, Version: meta.Version,
				ResourceName: p.res.Name, Resource: p.res.Content, Checksum: sum[:], DeploymentKey: deploymentKey}
			c.addDefinition(def, proc)
			pv := record.Value{BpmnProcessID: proc.ID, Version: meta.Version, ProcessDefinitionKey: def.Key, ResourceName: p.res.Name, Checksum: sum[:]}
			c.event(record.Process, record.Created, def.Key, &pv)
			c.openStartEvents(def, proc)
			out.Processes = append(out.Processes, meta)
		}
	}
	ev := c.event(record.Deployment, record.Created, deploymentKey, &out)
	fwd := out
	fwd.Local = true
	for p := 0; p < c.partitions; p++ {
		if p != c.partition {
			c.send(p, record.Deployment, record.Create, deploymentKey, &fwd)
		}
	}
	return Response{Record: *ev}
}

// storeDistributed stores a deployment made on another partition.
func (c *Core) storeDistributed(v *record.Value) {
	for _, meta := range v.Processes {
		if meta.Duplicate || c.st.definitions.get(meta.ProcessDefinitionKey) != nil {
			continue
		}
		for _, res := range v.Resources {
			if res.Name != meta.ResourceName {
				continue
			}
			d, err := bpmn.Load(res.Content)
			if err != nil {
				continue // the deploying partition checked it with the same code
			}
			for _, proc := range d.Processes {
				if proc.ID == meta.BpmnProcessID {
					c.addDefinition(&definition{Key: meta.ProcessDefinitionKey, BpmnProcessID: proc.ID, Version: meta.Version,
						ResourceName: res.Name, Resource: res.Content, Checksum: meta.Checksum}, proc)
				}
			}
		}
	}
	c.event(record.Deployment, record.Created, 0, v)
}

// lastVersion is the highest version process id ever had: a deleted
// version's number is not given again, as in Zeebe.
func (c *Core) lastVersion(id string) int32 {
	var last int32
	for v := range c.st.versions[id] {
		last = max(last, v, -v)
	}
	return last
}

// A deleted definition leaves a tombstone in the state: its row with the
// version negated, so that the number stays taken. While instances of it
// still run on the partition, the row keeps its resource and they go on
// (the definition is draining, as Zeebe calls it); the last one to end
// drops the resource.

// latestDefinition returns the latest version of process id that is not
// deleted.
func (c *Core) latestDefinition(id string) *definition {
	if d := c.st.definitions.get(c.st.latest[id]); d != nil && d.Version > 0 {
		return d
	}
	return nil
}

// runsInstances reports whether an instance of definition key is active
// on this partition.
func (c *Core) runsInstances(key int64) bool {
	for _, inst := range c.st.elements.rows {
		if inst.Value.ProcessDefinitionKey == key && inst.Key == inst.Value.ProcessInstanceKey {
			return true
		}
	}
	return false
}

// drained forgets the resource of a deleted definition once its last
// instance on this partition has ended.
func (c *Core) drained(key int64) {
	def := c.st.definitions.get(key)
	if def == nil || def.Version > 0 || def.Resource == nil || c.runsInstances(key) {
		return
	}
	tomb := *def
	tomb.Resource = nil
	c.st.definitions.put(key, &tomb)
	delete(c.models, key)
}

func (c *Core) addDefinition(def *definition, proc *bpmn.Process) {
	c.st.definitions.put(def.Key, def)
	c.st.indexDefinition(def)
	c.models[def.Key] = proc
	c.definitionsChanged()
}

// indexDefinition adds def to the version indexes; the latest version of
// its process wins.
func (st *State) indexDefinition(def *definition) {
	if st.versions[def.BpmnProcessID] == nil {
		st.versions[def.BpmnProcessID] = map[int32]int64{}
	}
	st.versions[def.BpmnProcessID][def.Version] = def.Key
	if cur := st.definitions.get(st.latest[def.BpmnProcessID]); cur == nil || cur.Version < def.Version {
		st.latest[def.BpmnProcessID] = def.Key
	}
}

// openStartEvents schedules the timer start events of a new latest version
// and cancels those of the version it replaces.
func (c *Core) openStartEvents(def *definition, proc *bpmn.Process) {
	// In key order: the records must not depend on map iteration.
	defs := make([]int64, 0, len(c.st.startTimers))
	for other := range c.st.startTimers {
		defs = append(defs, other)
	}
	slices.Sort(defs)
	for _, other := range defs {
		keys := c.st.startTimers[other]
		od := c.st.definitions.get(other)
		if od == nil || od.BpmnProcessID != def.BpmnProcessID || other == def.Key {
			continue
		}
		for _, k := range keys {
			if t := c.st.timers.get(k); t != nil {
				c.st.timers.del(k)
				c.event(record.Timer, record.Canceled, k, c.timerValue(t))
			}
		}
		delete(c.st.startTimers, other)
	}
	for _, i := range proc.TimerStarts {
		_ = c.scheduleTimer(nil, proc.Element(i), def.Key)
	}
}

// model returns the compiled process of a definition, compiling it again
// after a restart.
func (c *Core) model(key int64) *bpmn.Process {
	if p, ok := c.models[key]; ok {
		return p
	}
	def := c.st.definitions.get(key)
	if def == nil {
		return nil
	}
	d, err := bpmn.Load(def.Resource)
	if err != nil {
		panic(fmt.Sprintf("engine: deployed process %d no longer compiles: %v", key, err))
	}
	for _, p := range d.Processes {
		if p.ID == def.BpmnProcessID {
			c.models[key] = p
			return p
		}
	}
	panic(fmt.Sprintf("engine: deployed resource of process %d lacks process '%s'", key, def.BpmnProcessID))
}

// findDefinition resolves a creation request's process.
func (c *Core) findDefinition(v *record.Value) (*definition, error) {
	switch {
	case v.ProcessDefinitionKey != 0:
		if d := c.st.definitions.get(v.ProcessDefinitionKey); d != nil && d.Version > 0 {
			return d, nil
		}
		return nil, fmt.Errorf("Expected to find process definition with key '%d', but none found", v.ProcessDefinitionKey)
	case v.BpmnProcessID == "":
		return nil, errors.New("Expected either a process definition key or a BPMN process id, but none given")
	case v.Version > 0:
		if d := c.st.definitions.get(c.st.versions[v.BpmnProcessID][v.Version]); d != nil && d.Version > 0 {
			return d, nil
		}
		return nil, fmt.Errorf("Expected to find process definition with process ID '%s' and version '%d', but none found", v.BpmnProcessID, v.Version)
	}
	if d := c.latestDefinition(v.BpmnProcessID); d != nil {
		return d, nil
	}
	return nil, fmt.Errorf("Expected to find process definition with process ID '%s', but none found", v.BpmnProcessID)
}

// deleteResource deletes a process definition: no new instance can be
// created of it, its start events are closed, and the previous version
// becomes the latest. Instances of it still running (on any partition)
// run to their end first.
func (c *Core) deleteResource(cmd *record.Record) Response {
	def := c.st.definitions.get(cmd.Key)
	if def == nil || def.Version < 0 {
		if cmd.Value.Local {
			return Response{}
		}
		return c.reject(cmd, record.NotFound, fmt.Sprintf("Expected to delete resource but no resource found with key `%d`", cmd.Key))
	}
	id, version := def.BpmnProcessID, def.Version
	for _, k := range c.st.startTimers[def.Key] {
		if t := c.st.timers.get(k); t != nil {
			c.st.timers.del(k)
			c.event(record.Timer, record.Canceled, k, c.timerValue(t))
		}
	}
	delete(c.st.startTimers, def.Key)
	tomb := *def
	tomb.Version = -version
	if !c.runsInstances(def.Key) {
		tomb.Resource = nil
		delete(c.models, def.Key)
	}
	c.st.definitions.put(def.Key, &tomb)
	delete(c.st.versions[id], version)
	c.st.versions[id][-version] = def.Key
	c.definitionsChanged()
	if c.st.latest[id] == def.Key {
		delete(c.st.latest, id)
		var best *definition
		for _, k := range c.st.versions[id] {
			if d := c.st.definitions.get(k); d != nil && d.Version > 0 && (best == nil || d.Version > best.Version) {
				best = d
			}
		}
		if best != nil {
			c.st.latest[id] = best.Key
			if !cmd.Value.Local {
				c.openStartEvents(best, c.model(best.Key))
			}
		}
	}
	pv := record.Value{BpmnProcessID: id, Version: version, ProcessDefinitionKey: def.Key, ResourceName: def.ResourceName}
	c.event(record.Process, record.Deleted, def.Key, &pv)
	ev := c.event(record.ResourceDeletion, record.Deleted, def.Key, &cmd.Value)
	if !cmd.Value.Local {
		fwd := cmd.Value
		fwd.Local = true
		for p := 0; p < c.partitions; p++ {
			if p != c.partition {
				c.send(p, record.ResourceDeletion, record.Delete, def.Key, &fwd)
			}
		}
	}
	return Response{Record: *ev}
}

func sortedStringKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

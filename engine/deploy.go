package engine

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
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
			if latest := c.st.definitions.get(c.st.latest[proc.ID]); latest != nil && bytes.Equal(latest.Checksum, sum[:]) {
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

func (c *Core) lastVersion(id string) int32 {
	var last int32
	for v := range c.st.versions[id] {
		last = max(last, v)
	}
	return last
}

func (c *Core) addDefinition(def *definition, proc *bpmn.Process) {
	c.st.definitions.put(def.Key, def)
	c.indexDefinition(def)
	c.models[def.Key] = proc
	c.definitionsChanged()
}

func (c *Core) indexDefinition(def *definition) {
	if c.st.versions[def.BpmnProcessID] == nil {
		c.st.versions[def.BpmnProcessID] = map[int32]int64{}
	}
	c.st.versions[def.BpmnProcessID][def.Version] = def.Key
	if cur := c.st.definitions.get(c.st.latest[def.BpmnProcessID]); cur == nil || cur.Version < def.Version {
		c.st.latest[def.BpmnProcessID] = def.Key
	}
}

// openStartEvents schedules the timer start events of a new latest version
// and cancels those of the version it replaces.
func (c *Core) openStartEvents(def *definition, proc *bpmn.Process) {
	for other, keys := range c.st.startTimers {
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
		if d := c.st.definitions.get(v.ProcessDefinitionKey); d != nil {
			return d, nil
		}
		return nil, fmt.Errorf("Expected to find process definition with key '%d', but none found", v.ProcessDefinitionKey)
	case v.BpmnProcessID == "":
		return nil, errors.New("Expected either a process definition key or a BPMN process id, but none given")
	case v.Version > 0:
		if d := c.st.definitions.get(c.st.versions[v.BpmnProcessID][v.Version]); d != nil {
			return d, nil
		}
		return nil, fmt.Errorf("Expected to find process definition with process ID '%s' and version '%d', but none found", v.BpmnProcessID, v.Version)
	}
	if d := c.st.definitions.get(c.st.latest[v.BpmnProcessID]); d != nil {
		return d, nil
	}
	return nil, fmt.Errorf("Expected to find process definition with process ID '%s', but none found", v.BpmnProcessID)
}

// deleteResource deletes a process definition that has no running instance.
func (c *Core) deleteResource(cmd *record.Record) Response {
	def := c.st.definitions.get(cmd.Key)
	if def == nil {
		if cmd.Value.Local {
			return Response{}
		}
		return c.reject(cmd, record.NotFound, fmt.Sprintf("Expected to delete resource but no resource found with key `%d`", cmd.Key))
	}
	for _, inst := range c.st.elements.rows {
		if inst.Value.ProcessDefinitionKey == def.Key && inst.Key == inst.Value.ProcessInstanceKey {
			if cmd.Value.Local {
				break
			}
			return c.reject(cmd, record.InvalidState, fmt.Sprintf("Expected to delete resource with key `%d` but there are still running instances", cmd.Key))
		}
	}
	c.st.definitions.del(def.Key)
	c.definitionsChanged()
	delete(c.st.versions[def.BpmnProcessID], def.Version)
	if c.st.latest[def.BpmnProcessID] == def.Key {
		delete(c.st.latest, def.BpmnProcessID)
		var best *definition
		for _, k := range c.st.versions[def.BpmnProcessID] {
			if d := c.st.definitions.get(k); d != nil && (best == nil || d.Version > best.Version) {
				best = d
			}
		}
		if best != nil {
			c.st.latest[def.BpmnProcessID] = best.Key
			if !cmd.Value.Local {
				c.openStartEvents(best, c.model(best.Key))
			}
		}
	}
	for _, k := range c.st.startTimers[def.Key] {
		if t := c.st.timers.get(k); t != nil {
			c.st.timers.del(k)
			c.event(record.Timer, record.Canceled, k, c.timerValue(t))
		}
	}
	delete(c.st.startTimers, def.Key)
	pv := record.Value{BpmnProcessID: def.BpmnProcessID, Version: def.Version, ProcessDefinitionKey: def.Key, ResourceName: def.ResourceName}
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
	delete(c.models, def.Key)
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

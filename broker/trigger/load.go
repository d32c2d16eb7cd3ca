package trigger

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// LoadOptions tune Load and Compile.
type LoadOptions struct {
	// File names the source in errors.
	File string
	// Defaults fills the delivery fields a trigger leaves out; nil means
	// DefaultDelivery().
	Defaults *Delivery
	// ResolveRef turns a Kubernetes reference into a URI. Without it, a
	// subscriber or dead letter sink given as a ref is an error.
	ResolveRef func(ref Ref, namespace string) (string, error)
	// Namespace is the namespace of a trigger whose metadata names none
	// ("default" when empty), as kubectl apply -n gives it.
	Namespace string
	// Name is the name of a trigger whose metadata names none, as a PUT's
	// path gives it.
	Name string
}

// Load reads a YAML stream of Trigger documents (separated by ---; JSON
// is YAML too; a Kubernetes List of them counts as its items) and compiles
// each. Empty documents are skipped. Every
// problem found is reported, as Errors, with its line; unknown fields are
// errors, except under status and the metadata Kubernetes fills in, which
// are ignored.
func Load(r io.Reader, opts LoadOptions) ([]*Trigger, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var (
		triggers []*Trigger
		errs     Errors
		seen     = map[string]int{}
	)
	for doc := 1; ; doc++ {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			errs = append(errs, syntaxError(opts.File, err))
			break // the decoder cannot go on after a syntax error
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			continue // an empty document
		}
		for _, node := range listItems(n.Content[0]) {
			w := &walker{file: opts.File, lines: map[string]int{}}
			res := w.resource(node)
			t, err := compile(res, opts, w.lines, node.Line)
			if len(w.errs) > 0 || err != nil {
				found := w.errs
				if err != nil {
					found = append(found, withoutCascades(err.(Errors), w.errs)...)
				}
				sort.SliceStable(found, func(i, j int) bool { return found[i].Line < found[j].Line })
				errs = append(errs, found...)
				continue
			}
			if first, dup := seen[t.Key()]; dup {
				errs = append(errs, &Error{File: opts.File, Line: t.Line, Trigger: t.Key(), Msg: fmt.Sprintf("declared twice (first at line %d)", first)})
				continue
			}
			seen[t.Key()] = t.Line
			triggers = append(triggers, t)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return triggers, nil
}

// listItems returns the Triggers a document holds: the items of a
// Kubernetes List (apiVersion v1, kind List, as kubectl get -o yaml and
// GET /v1/triggers write it), else the document itself.
func listItems(doc *yaml.Node) []*yaml.Node {
	if doc.Kind != yaml.MappingNode {
		return []*yaml.Node{doc}
	}
	var kind, items *yaml.Node
	for i := 0; i+1 < len(doc.Content); i += 2 {
		switch doc.Content[i].Value {
		case "kind":
			kind = doc.Content[i+1]
		case "items":
			items = doc.Content[i+1]
		}
	}
	if kind == nil || kind.Value != "List" || items == nil || items.Kind != yaml.SequenceNode {
		return []*yaml.Node{doc}
	}
	return items.Content
}

// withoutCascades drops the compile errors that only follow from a
// problem the walker reported in the same field, inside it or around it.
func withoutCascades(compiled, read Errors) Errors {
	var out Errors
	for _, c := range compiled {
		cascade := false
		for _, r := range read {
			if within(r.Path, c.Path) || within(c.Path, r.Path) {
				cascade = true
				break
			}
		}
		if !cascade {
			out = append(out, c)
		}
	}
	return out
}

// within reports whether path is base or a field inside it ("" is the
// whole document).
func within(path, base string) bool {
	return base == "" || path == base || strings.HasPrefix(path, base+".") || strings.HasPrefix(path, base+"[")
}

// syntaxError turns a YAML syntax error into an *Error with its line.
func syntaxError(file string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{File: file, Msg: "YAML: " + msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(n); err == nil {
				if parserProblem(after) {
					line++
				}
				e.Line, e.Msg = line, "YAML: "+after
			}
		}
	}
	return e
}

// parserProblem reports whether msg is one of the YAML parser's problems
// (not the scanner's): gopkg.in/yaml.v3 gives their line counted from 0,
// one before the line a reader sees.
func parserProblem(msg string) bool {
	for _, p := range []string{"did not find expected ", "found undefined tag handle", "found duplicate %", "found incompatible YAML document"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// LoadFile is Load of a file, named in errors.
func LoadFile(path string, opts LoadOptions) ([]*Trigger, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if opts.File == "" {
		opts.File = path
	}
	return Load(f, opts)
}

// maxNodes bounds the nodes a document may expand to through aliases, so
// that a small hostile document cannot make the loader walk forever.
const maxNodes = 100000

// walker turns a YAML document into a Resource, strictly, recording the
// line of every field it reads.
type walker struct {
	file    string
	trigger string
	errs    Errors
	lines   map[string]int
	nodes   int
}

func (w *walker) fail(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	w.errs = append(w.errs, &Error{File: w.file, Line: line, Trigger: w.trigger, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// deref follows aliases and counts nodes; nil when the budget is spent.
func (w *walker) deref(n *yaml.Node, path string) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth > 100 {
			w.fail(n, path, "aliases nested too deep")
			return nil
		}
		n = n.Alias
	}
	if w.nodes++; w.nodes > maxNodes {
		if w.nodes == maxNodes+1 {
			w.fail(n, path, "the document expands to more than %d nodes", maxNodes)
		}
		return nil
	}
	return n
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// fields walks a mapping, calling visit for each key; visit returns false
// for an unknown key.
func (w *walker) fields(n *yaml.Node, path string, visit func(key string, v *yaml.Node, path string) bool) {
	if n = w.deref(n, path); n == nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		w.fail(n, path, "must be a mapping, not %s", describe(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.fail(k, path, "keys must be strings")
			continue
		}
		p := join(path, k.Value)
		if seen[k.Value] {
			w.fail(k, p, "appears twice")
			continue
		}
		seen[k.Value] = true
		w.lines[p] = k.Line
		if !visit(k.Value, v, p) {
			w.fail(k, p, "unknown field")
		}
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!str":
			return "the string " + strconv.Quote(n.Value)
		}
		return strings.TrimPrefix(n.Tag, "!!") + " " + n.Value
	}
	return "an alias"
}

func (w *walker) str(n *yaml.Node, path string) string {
	if n = w.deref(n, path); n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		hint := ""
		if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
			hint = fmt.Sprintf(" (quote it: %q)", n.Value)
		}
		w.fail(n, path, "must be a string, not %s%s", describe(n), hint)
		return ""
	}
	return n.Value
}

func (w *walker) stringMap(n *yaml.Node, path string) map[string]string {
	m := map[string]string{}
	w.fields(n, path, func(k string, v *yaml.Node, p string) bool {
		m[k] = w.str(v, p)
		return true
	})
	return m
}

func (w *walker) resource(n *yaml.Node) *Resource {
	r := &Resource{}
	if d := w.deref(n, ""); d != nil && d.Kind == yaml.MappingNode {
		// Name the trigger in every error, even those found before its
		// metadata.
		for i := 0; i+1 < len(d.Content); i += 2 {
			if d.Content[i].Value != "metadata" {
				continue
			}
			if md := w.deref(d.Content[i+1], "metadata"); md != nil && md.Kind == yaml.MappingNode {
				name, ns := "", "default"
				for j := 0; j+1 < len(md.Content); j += 2 {
					switch md.Content[j].Value {
					case "name":
						name = md.Content[j+1].Value
					case "namespace":
						ns = md.Content[j+1].Value
					}
				}
				if name != "" {
					w.trigger = ns + "/" + name
				}
			}
		}
	}
	w.fields(n, "", func(k string, v *yaml.Node, p string) bool {
		switch k {
		case "apiVersion":
			r.APIVersion = w.str(v, p)
		case "kind":
			r.Kind = w.str(v, p)
		case "metadata":
			w.metadata(v, p, &r.Metadata)
		case "spec":
			w.spec(v, p, &r.Spec)
		case "status":
			// Output of a cluster, not input: ignored.
		default:
			return false
		}
		return true
	})
	return r
}

// ignoredMetadata are the fields Kubernetes fills in; a trigger exported
// from a cluster carries them, and they mean nothing to Eddy.
var ignoredMetadata = map[string]bool{
	"generation": true, "creationTimestamp": true,
	"managedFields": true, "selfLink": true, "finalizers": true, "ownerReferences": true,
	"deletionTimestamp": true, "deletionGracePeriodSeconds": true,
}

func (w *walker) metadata(n *yaml.Node, path string, m *Metadata) {
	w.fields(n, path, func(k string, v *yaml.Node, p string) bool {
		switch k {
		case "name":
			m.Name = w.str(v, p)
		case "namespace":
			m.Namespace = w.str(v, p)
		case "resourceVersion":
			m.ResourceVersion = w.str(v, p)
		case "uid":
			m.UID = w.str(v, p)
		case "labels":
			m.Labels = w.stringMap(v, p)
		case "annotations":
			m.Annotations = w.stringMap(v, p)
		default:
			return ignoredMetadata[k]
		}
		return true
	})
}

func (w *walker) spec(n *yaml.Node, path string, s *Spec) {
	w.fields(n, path, func(k string, v *yaml.Node, p string) bool {
		switch k {
		case "broker":
			s.Broker = w.str(v, p)
		case "filter":
			s.Filter = &FilterSpec{}
			w.fields(v, p, func(k string, v *yaml.Node, p string) bool {
				if k != "attributes" {
					return false
				}
				s.Filter.Attributes = w.stringMap(v, p)
				return true
			})
		case "filters":
			s.Filters = w.filterList(v, p)
		case "subscriber":
			w.destination(v, p, &s.Subscriber)
		case "delivery":
			s.Delivery = &DeliverySpec{}
			w.delivery(v, p, s.Delivery)
		default:
			return false
		}
		return true
	})
}

func (w *walker) filterList(n *yaml.Node, path string) []FilterExpr {
	return w.filterListDepth(n, path, -1)
}

const maxFilterDepth = 32

func (w *walker) filter(n *yaml.Node, path string, f *FilterExpr, depth int) {
	if depth > maxFilterDepth {
		w.fail(n, path, "filters nested more than %d deep", maxFilterDepth)
		return
	}
	w.fields(n, path, func(k string, v *yaml.Node, p string) bool {
		switch k {
		case "exact":
			f.Exact = w.stringMap(v, p)
		case "prefix":
			f.Prefix = w.stringMap(v, p)
		case "suffix":
			f.Suffix = w.stringMap(v, p)
		case "all":
			f.All = w.filterListDepth(v, p, depth)
		case "any":
			f.Any = w.filterListDepth(v, p, depth)
		case "not":
			f.Not = &FilterExpr{}
			w.filter(v, p, f.Not, depth+1)
		case "cesql":
			if f.CESQL = w.str(v, p); f.CESQL == "" && w.deref(v, p) != nil {
				w.fail(v, p, "the expression is empty: give a CESQL expression, or leave cesql out")
			}
		default:
			return false
		}
		return true
	})
}

func (w *walker) filterListDepth(n *yaml.Node, path string, depth int) []FilterExpr {
	if n = w.deref(n, path); n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		w.fail(n, path, "must be a list of filters, not %s", describe(n))
		return nil
	}
	list := make([]FilterExpr, len(n.Content))
	for i, item := range n.Content {
		p := path + "[" + strconv.Itoa(i) + "]"
		w.lines[p] = item.Line
		w.filter(item, p, &list[i], depth+1)
	}
	return list // non-nil even when empty: all: [] is an error Compile reports
}

func (w *walker) destination(n *yaml.Node, path string, d *Destination) {
	w.fields(n, path, func(k string, v *yaml.Node, p string) bool {
		switch k {
		case "uri":
			d.URI = w.str(v, p)
		case "ref":
			d.Ref = &Ref{}
			w.fields(v, p, func(k string, v *yaml.Node, p string) bool {
				switch k {
				case "apiVersion":
					d.Ref.APIVersion = w.str(v, p)
				case "kind":
					d.Ref.Kind = w.str(v, p)
				case "name":
					d.Ref.Name = w.str(v, p)
				case "namespace":
					d.Ref.Namespace = w.str(v, p)
				default:
					return false
				}
				return true
			})
		case "CACerts", "audience":
			w.fail(v, p, "not supported by Eddy: deliveries use the system's CAs and no OIDC audience")
		default:
			return false
		}
		return true
	})
}

// parseYAMLInt reads an int32 that YAML tagged an integer as gopkg.in/yaml
// reads integers (as the Kubernetes YAML readers do): digits may be
// grouped with '_', and 0x, 0o, 0b and a leading 0 give the base.
func parseYAMLInt(text string) (int64, error) {
	return strconv.ParseInt(strings.ReplaceAll(text, "_", ""), 0, 32)
}

func (w *walker) delivery(n *yaml.Node, path string, d *DeliverySpec) {
	w.fields(n, path, func(k string, v *yaml.Node, p string) bool {
		switch k {
		case "deadLetterSink":
			d.DeadLetterSink = &Destination{}
			w.destination(v, p, d.DeadLetterSink)
		case "retry":
			if v = w.deref(v, p); v == nil {
				return true
			}
			if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
				w.fail(v, p, "must be a whole number, not %s", describe(v))
				return true
			}
			i, err := parseYAMLInt(v.Value)
			if errors.Is(err, strconv.ErrRange) {
				w.fail(v, p, "%s is out of range: at most %d", v.Value, math.MaxInt32)
				return true
			}
			if err != nil {
				w.fail(v, p, "must be a whole number, not %s", describe(v))
				return true
			}
			r := int(i)
			d.Retry = &r
		case "backoffPolicy":
			d.BackoffPolicy = w.str(v, p)
		case "backoffDelay":
			d.BackoffDelay = w.str(v, p)
		case "backoffMax":
			d.BackoffMax = w.str(v, p)
		case "timeout":
			d.Timeout = w.str(v, p)
		case "retryAfterMax":
			d.RetryAfterMax = w.str(v, p)
		case "format":
			d.Format = w.str(v, p)
		default:
			return false
		}
		return true
	})
}

package trigger

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"eddy/cloudevents"
	"eddy/cloudevents/cesql"
)

// Compile validates a declared trigger and compiles its filter. Errors are
// Errors (no lines: a Resource has none).
func Compile(res *Resource, opts LoadOptions) (*Trigger, error) {
	return compile(res, opts, nil, 0)
}

// compiler holds what one trigger's compilation needs to report errors.
type compiler struct {
	opts  LoadOptions
	lines map[string]int
	start int
	key   string
	errs  Errors
}

func (c *compiler) fail(path, format string, args ...any) {
	line := c.lines[path]
	for p := path; line == 0 && p != ""; {
		// The closest enclosing field that has a line.
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
		line = c.lines[p]
	}
	if line == 0 {
		line = c.start
	}
	c.errs = append(c.errs, &Error{File: c.opts.File, Line: line, Trigger: c.key, Path: path, Msg: fmt.Sprintf(format, args...)})
}

var (
	// Kubernetes names: a DNS-1123 subdomain for the name, a label for
	// the namespace.
	dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	dns1123Label     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// Knative's rule for attribute names in filters: lower-case
	// alphanumeric, starting with a letter.
	filterAttributeName = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
)

// CheckName says what is wrong with name as a trigger's name ("" if
// nothing): the same rule for metadata.name and for a name given elsewhere
// (an API path), so that each place can say where the name came from.
func CheckName(name string) string {
	if len(name) > 253 || !dns1123Subdomain.MatchString(name) {
		return fmt.Sprintf("%q is not a Kubernetes name (lower-case letters, digits, '-' and '.', at most 253)", name)
	}
	return ""
}

// CheckNamespace is CheckName for a namespace.
func CheckNamespace(ns string) string {
	if len(ns) > 63 || !dns1123Label.MatchString(ns) {
		return fmt.Sprintf("%q is not a Kubernetes namespace (lower-case letters, digits and '-', at most 63)", ns)
	}
	return ""
}

func compile(res *Resource, opts LoadOptions, lines map[string]int, start int) (*Trigger, error) {
	md := res.Metadata
	ns := md.Namespace
	if ns == "" {
		ns = opts.Namespace
	}
	if ns == "" {
		ns = "default"
	}
	if md.Name == "" {
		md.Name = opts.Name
	}
	c := &compiler{opts: opts, lines: lines, start: start}
	if md.Name != "" {
		c.key = ns + "/" + md.Name
	}
	if res.APIVersion != APIVersion {
		c.fail("apiVersion", "%q is not supported: Eddy reads %s", res.APIVersion, APIVersion)
	}
	if res.Kind != Kind {
		c.fail("kind", "%q is not a %s", res.Kind, Kind)
	}
	if md.Name == "" {
		c.fail("metadata.name", "required")
	} else if msg := CheckName(md.Name); msg != "" {
		c.fail("metadata.name", "%s", msg)
	}
	if msg := CheckNamespace(ns); msg != "" {
		c.fail("metadata.namespace", "%s", msg)
	}
	t := &Trigger{Name: md.Name, Namespace: ns, Broker: res.Spec.Broker, Resource: *res, Line: start}
	t.Resource.Metadata.Namespace, t.Resource.Metadata.Name = ns, md.Name
	if res.Spec.Broker == "" {
		c.fail("spec.broker", "required")
	}
	switch v := md.Annotations[OrderingAnnotation]; v {
	case "", "unordered":
	case "ordered":
		t.Ordering = Ordered
	default:
		c.fail("metadata.annotations."+OrderingAnnotation, "%q is neither ordered nor unordered", v)
	}

	// An empty filters list is no filters, as in Knative: filter applies.
	switch {
	case res.Spec.Filter != nil && len(res.Spec.Filter.Attributes) > 0 && len(res.Spec.Filters) > 0:
		c.fail("spec.filters", "spec.filter and spec.filters are both set; Knative ignores filter when filters is set, Eddy asks you to keep one")
	case len(res.Spec.Filters) > 0:
		list := make(all, 0, len(res.Spec.Filters))
		for i := range res.Spec.Filters {
			if m := c.filter(&res.Spec.Filters[i], fmt.Sprintf("spec.filters[%d]", i)); m != nil {
				list = append(list, m)
			}
		}
		switch len(list) {
		case 0:
		case 1:
			t.Filter.m = list[0]
		default:
			t.Filter.m = list
		}
	case res.Spec.Filter != nil:
		t.Filter.m = c.attributes(res.Spec.Filter.Attributes)
	}

	t.Subscriber = c.destination(&res.Spec.Subscriber, "spec.subscriber", ns, true)
	t.Delivery = c.delivery(res.Spec.Delivery, ns)
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return t, nil
}

func (c *compiler) attributes(attrs map[string]string) matcher {
	if len(attrs) == 0 {
		return nil
	}
	m := make(attributes, 0, len(attrs))
	for _, name := range sortedKeys(attrs) {
		if !filterAttributeName.MatchString(name) {
			c.fail("spec.filter.attributes."+name, "%q is not an attribute name (lower-case letters and digits, starting with a letter)", name)
			continue
		}
		m = append(m, attrValue{newAttrRef(name), attrs[name]})
	}
	return m
}

// filter compiles one filter of the new API; nil when it has errors.
func (c *compiler) filter(f *FilterExpr, path string) matcher {
	var dialects []string
	if f.Exact != nil {
		dialects = append(dialects, "exact")
	}
	if f.Prefix != nil {
		dialects = append(dialects, "prefix")
	}
	if f.Suffix != nil {
		dialects = append(dialects, "suffix")
	}
	if f.All != nil {
		dialects = append(dialects, "all")
	}
	if f.Any != nil {
		dialects = append(dialects, "any")
	}
	if f.Not != nil {
		dialects = append(dialects, "not")
	}
	if f.CESQL != "" {
		dialects = append(dialects, "cesql")
	}
	switch len(dialects) {
	case 0:
		c.fail(path, "a filter needs one dialect: exact, prefix, suffix, all, any, not or cesql")
		return nil
	case 1:
	default:
		c.fail(path, "a filter has one dialect, not %s", strings.Join(dialects, " and "))
		return nil
	}
	p := path + "." + dialects[0]
	switch {
	case f.Exact != nil, f.Prefix != nil, f.Suffix != nil:
		attrs := f.Exact
		if f.Prefix != nil {
			attrs = f.Prefix
		} else if f.Suffix != nil {
			attrs = f.Suffix
		}
		if len(attrs) != 1 {
			c.fail(p, "%s takes exactly one attribute, not %d (use all to combine them)", dialects[0], len(attrs))
			return nil
		}
		for name, value := range attrs {
			if !filterAttributeName.MatchString(name) {
				c.fail(p+"."+name, "%q is not an attribute name (lower-case letters and digits, starting with a letter)", name)
				return nil
			}
			if value == "" {
				c.fail(p+"."+name, "the value cannot be empty")
				return nil
			}
			av := attrValue{newAttrRef(name), value}
			switch {
			case f.Exact != nil:
				return (*exact)(&av)
			case f.Prefix != nil:
				return (*prefix)(&av)
			}
			return (*suffix)(&av)
		}
	case f.All != nil || f.Any != nil:
		list := f.All
		if f.Any != nil {
			list = f.Any
		}
		if len(list) == 0 {
			c.fail(p, "%s needs at least one filter", dialects[0])
			return nil
		}
		ms := make([]matcher, 0, len(list))
		for i := range list {
			if m := c.filter(&list[i], fmt.Sprintf("%s[%d]", p, i)); m != nil {
				ms = append(ms, m)
			}
		}
		if len(ms) != len(list) {
			return nil
		}
		if f.All != nil {
			return all(ms)
		}
		return anyOf(ms)
	case f.Not != nil:
		if m := c.filter(f.Not, p); m != nil {
			return &not{m}
		}
		return nil
	}
	x, err := cesql.Parse(f.CESQL)
	if err != nil {
		c.fail(p, "%v", err)
		return nil
	}
	return &sql{x}
}

// destination resolves a subscriber or dead letter sink to an absolute
// http(s) URI.
func (c *compiler) destination(d *Destination, path, ns string, required bool) string {
	if d.Ref == nil && d.URI == "" {
		if required {
			c.fail(path, "needs a uri (or a ref)")
		}
		return ""
	}
	base := ""
	if d.Ref != nil {
		r := *d.Ref
		p := path + ".ref"
		if r.Kind == "" || r.Name == "" {
			c.fail(p, "a ref needs kind and name")
			return ""
		}
		if c.opts.ResolveRef == nil {
			c.fail(p, "%s %q is a Kubernetes reference, which Eddy cannot resolve without Kubernetes; give %s.uri instead", r.Kind, r.Name, path)
			return ""
		}
		if r.Namespace == "" {
			r.Namespace = ns
		}
		u, err := c.opts.ResolveRef(r, ns)
		if err != nil {
			c.fail(p, "cannot resolve %s %q: %v", r.Kind, r.Name, err)
			return ""
		}
		base = u
		if d.URI == "" {
			d = &Destination{URI: u}
		}
	}
	u, err := url.Parse(d.URI)
	if err != nil {
		c.fail(path+".uri", "%q is not a URI: %v", d.URI, err)
		return ""
	}
	if base != "" && d.URI != base {
		b, err := url.Parse(base)
		if err != nil {
			c.fail(path+".ref", "resolved to %q, which is not a URI: %v", base, err)
			return ""
		}
		u = b.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Named as the user wrote it, not re-encoded (a space as %20),
		// unless a ref's base made it.
		shown := d.URI
		if base != "" && d.URI != base {
			shown = u.String()
		}
		c.fail(path+".uri", "%q is not an absolute http or https URI", shown)
		return ""
	}
	return u.String()
}

func (c *compiler) delivery(ds *DeliverySpec, ns string) Delivery {
	d := DefaultDelivery()
	if c.opts.Defaults != nil {
		d = *c.opts.Defaults
	}
	if ds == nil {
		return d
	}
	p := "spec.delivery"
	// A trigger's delivery replaces the broker's in Knative, so a retry it
	// does not give is none: the first failure goes to the dead-letter
	// sink. The waits it does not give stay the broker's, where Knative's
	// would be none at all.
	d.Retry = 0
	if ds.Retry != nil {
		if *ds.Retry < 0 {
			c.fail(p+".retry", "cannot be negative")
		}
		d.Retry = *ds.Retry
	}
	switch ds.BackoffPolicy {
	case "":
	case string(Linear), string(Exponential):
		d.BackoffPolicy = BackoffPolicy(ds.BackoffPolicy)
	default:
		c.fail(p+".backoffPolicy", "%q is neither linear nor exponential", ds.BackoffPolicy)
	}
	duration := func(field, v string, positive bool) (time.Duration, bool) {
		if v == "" {
			return 0, false
		}
		x, err := ParseDuration(v)
		if err != nil {
			c.fail(p+"."+field, "%v", err)
			return 0, false
		}
		if positive && x <= 0 {
			c.fail(p+"."+field, "must be longer than zero")
			return 0, false
		}
		return x, true
	}
	if v, ok := duration("backoffDelay", ds.BackoffDelay, false); ok {
		d.BackoffDelay = v
	}
	if v, ok := duration("backoffMax", ds.BackoffMax, true); ok {
		d.BackoffMax = v
	}
	if v, ok := duration("timeout", ds.Timeout, true); ok {
		d.Timeout = v
	}
	if v, ok := duration("retryAfterMax", ds.RetryAfterMax, false); ok {
		d.RetryAfterMax = &v
	}
	switch strings.ToLower(ds.Format) {
	case "":
	case "binary":
		d.Format = cloudevents.Binary
	case "json":
		d.Format = cloudevents.Structured
	default:
		c.fail(p+".format", "%q is neither binary nor json", ds.Format)
	}
	if ds.DeadLetterSink != nil {
		d.DeadLetterSink = c.destination(ds.DeadLetterSink, p+".deadLetterSink", ns, true)
	}
	return d
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

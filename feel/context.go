package feel

// Context is a FEEL context: entries in the order they were written, keys
// unique. A Context is immutable once built; build one with ContextBuilder.
type Context struct {
	keys []string
	vals []Value
	idx  map[string]int // for larger contexts, built once with the context
}

// indexAbove is the size from which a context keeps a key index; below it a
// linear scan is faster than hashing.
const indexAbove = 12

// Len returns the number of entries.
func (c *Context) Len() int { return len(c.keys) }

// Key returns the i-th key.
func (c *Context) Key(i int) string { return c.keys[i] }

// At returns the i-th value.
func (c *Context) At(i int) Value { return c.vals[i] }

// Get returns the value of key.
func (c *Context) Get(key string) (Value, bool) {
	if c.idx != nil {
		if i, ok := c.idx[key]; ok {
			return c.vals[i], true
		}
		return Null, false
	}
	for i, k := range c.keys {
		if k == key {
			return c.vals[i], true
		}
	}
	return Null, false
}

// Lookup makes a context usable as a Scope.
func (c *Context) Lookup(name string) (Value, bool) { return c.Get(name) }

// ContextBuilder collects entries; setting a key again replaces its value in
// place. The zero value is ready to use.
type ContextBuilder struct {
	keys []string
	vals []Value
	idx  map[string]int
}

// Set puts key = v.
func (b *ContextBuilder) Set(key string, v Value) {
	if b.idx == nil && len(b.keys) >= indexAbove {
		b.idx = make(map[string]int, len(b.keys)*2)
		for i, k := range b.keys {
			b.idx[k] = i
		}
	}
	if b.idx != nil {
		if i, ok := b.idx[key]; ok {
			b.vals[i] = v
			return
		}
		b.idx[key] = len(b.keys)
	} else {
		for i, k := range b.keys {
			if k == key {
				b.vals[i] = v
				return
			}
		}
	}
	b.keys = append(b.keys, key)
	b.vals = append(b.vals, v)
}

// Len returns the number of entries so far.
func (b *ContextBuilder) Len() int { return len(b.keys) }

// Context returns the context built so far; the builder must not be used
// afterwards.
func (b *ContextBuilder) Context() *Context {
	c := &Context{keys: b.keys, vals: b.vals, idx: b.idx}
	*b = ContextBuilder{}
	return c
}

// Value returns the built context as a value.
func (b *ContextBuilder) Value() Value { return ContextValue(b.Context()) }

// builderFrom starts a builder with a copy of c's entries.
func builderFrom(c *Context) *ContextBuilder {
	b := &ContextBuilder{
		keys: append(make([]string, 0, len(c.keys)+1), c.keys...),
		vals: append(make([]Value, 0, len(c.vals)+1), c.vals...),
	}
	if c.idx != nil {
		b.idx = make(map[string]int, len(c.idx)+1)
		for k, i := range c.idx {
			b.idx[k] = i
		}
	}
	return b
}

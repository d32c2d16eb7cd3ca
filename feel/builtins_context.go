package feel

func init() {
	define("get value", []string{"m", "key"}, func(c *call, args []Value) Value {
		ctx, ok1 := c.context(args[0], "m")
		key, ok2 := c.str(args[1], "key")
		if !ok1 || !ok2 {
			return Null
		}
		v, _ := ctx.Get(key)
		return v
	})
	define("get entries", []string{"m"}, func(c *call, args []Value) Value {
		ctx, ok := c.context(args[0], "m")
		if !ok {
			return Null
		}
		out := make([]Value, ctx.Len())
		for i, k := range ctx.keys {
			out[i] = ContextValue(&Context{keys: []string{"key", "value"}, vals: []Value{String(k), ctx.vals[i]}})
		}
		return List(out...)
	})
	define("context put", []string{"context", "key", "value"}, func(c *call, args []Value) Value {
		ctx, ok := c.context(args[0], "context")
		if !ok {
			return Null
		}
		var keys []string
		switch k := args[1]; k.kind {
		case KindString:
			keys = []string{k.str()}
		case KindList:
			for _, it := range k.items() {
				if it.kind != KindString {
					return c.typeError("key", "a string or a list of strings", it)
				}
				keys = append(keys, it.str())
			}
			if len(keys) == 0 {
				return c.null("key must not be an empty list")
			}
		default:
			return c.typeError("key", "a string or a list of strings", k)
		}
		return ContextValue(putPath(ctx, keys, args[2]))
	})
	define("context merge", []string{"contexts"}, func(c *call, args []Value) Value {
		items, ok := c.list(args[0], "contexts")
		if !ok {
			return Null
		}
		var b ContextBuilder
		for _, it := range items {
			ctx, ok := c.context(it, "contexts")
			if !ok {
				return Null
			}
			for i, k := range ctx.keys {
				b.Set(k, ctx.vals[i])
			}
		}
		return b.Value()
	})
	define("get or else", []string{"value", "default"}, func(_ *call, args []Value) Value {
		if args[0].kind == KindNull {
			return args[1]
		}
		return args[0]
	})
}

// putPath returns ctx with the entry at the path of keys set to v, creating
// nested contexts on the way.
func putPath(ctx *Context, keys []string, v Value) *Context {
	b := builderFrom(ctx)
	if len(keys) > 1 {
		inner := &Context{}
		if cur, ok := ctx.Get(keys[0]); ok && cur.kind == KindContext {
			inner = cur.ctx()
		}
		v = ContextValue(putPath(inner, keys[1:], v))
	}
	b.Set(keys[0], v)
	return b.Context()
}

package feel

import (
	"strings"
	"unicode"
)

// Built-ins that Camunda 8's FEEL engine adds to DMN's, limited to the
// deterministic ones (uuid() and random number() are left out: an
// evaluation must give the same result when replayed).

func init() {
	define("is empty", []string{"list"}, func(c *call, args []Value) Value {
		items, ok := c.list(args[0], "list")
		if !ok {
			return Null
		}
		return Bool(len(items) == 0)
	})
	stringFn("is blank", []string{"string"}, func(_ *call, s []string) Value {
		return Bool(strings.TrimSpace(s[0]) == "")
	})
	stringFn("trim", []string{"string"}, func(_ *call, s []string) Value {
		return String(strings.TrimFunc(s[0], unicode.IsSpace))
	})
	stringFn("extract", []string{"string", "pattern"}, func(c *call, s []string) Value {
		re, ok := c.regexp(s[1], "")
		if !ok {
			return Null
		}
		found := re.FindAllString(s[0], -1)
		out := make([]Value, len(found))
		for i, f := range found {
			out[i] = String(f)
		}
		return List(out...)
	})
	define("duplicate values", []string{"list"}, func(c *call, args []Value) Value {
		items, ok := c.list(args[0], "list")
		if !ok {
			return Null
		}
		var seen, dups []Value
		for _, it := range items {
			c.st.work(c.pos, len(seen))
			if containsValue(seen, it) {
				if !containsValue(dups, it) {
					dups = append(dups, it)
				}
				continue
			}
			seen = append(seen, it)
		}
		if dups == nil {
			dups = []Value{}
		}
		return List(dups...)
	})
	define("partition", []string{"list", "size"}, func(c *call, args []Value) Value {
		items, ok1 := c.list(args[0], "list")
		size, ok2 := c.integer(args[1], "size")
		if !ok1 || !ok2 {
			return Null
		}
		if size <= 0 {
			return c.null("size must be positive, not %d", size)
		}
		out := []Value{}
		for i := int64(0); i < int64(len(items)); i += size {
			out = append(out, List(items[i:min(i+size, int64(len(items))):min(i+size, int64(len(items)))]...))
		}
		return List(out...)
	})
	define("last day of month", []string{"date"}, func(c *call, args []Value) Value {
		days, ok := c.localDate(args[0], "date")
		if !ok {
			return Null
		}
		y, m, _ := civilFromDays(days)
		return DateValue(Date{days: daysFromCivil(y, m, daysIn(y, m))})
	})
	assert := func(c *call, args []Value) Value {
		if args[1].kind == KindBool && args[1].n != 0 {
			return args[0]
		}
		cause := "the condition is not true"
		if len(args) == 3 && args[2].kind == KindString {
			cause = args[2].str()
		}
		c.st.fail(c.pos, "assertion failed: %s", cause)
		return Null
	}
	define("assert", []string{"value", "condition"}, assert)
	define("assert", []string{"value", "condition", "cause"}, assert)
	define("to json", []string{"value"}, func(c *call, args []Value) Value {
		data, err := args[0].MarshalJSON()
		if err != nil {
			return c.null("%v", err)
		}
		return String(string(data))
	})
	stringFn("from json", []string{"value"}, func(c *call, s []string) Value {
		v, err := FromJSON([]byte(s[0]))
		if err != nil {
			return c.null("%v", err)
		}
		return v
	})
}

func containsValue(items []Value, v Value) bool {
	for _, it := range items {
		if eq, ok := equalValues(it, v); ok && eq {
			return true
		}
	}
	return false
}

package feel

import (
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// Argument readers: each returns false (after explaining the null) when the
// argument is not of the wanted type.

func (c *call) str(v Value, param string) (string, bool) {
	if v.kind != KindString {
		c.typeError(param, "a string", v)
		return "", false
	}
	return v.str(), true
}

func (c *call) num(v Value, param string) (Decimal, bool) {
	if v.kind != KindNumber {
		c.typeError(param, "a number", v)
		return Decimal{}, false
	}
	return v.dec(), true
}

// integer reads a whole number (FEEL positions, lengths, scales).
func (c *call) integer(v Value, param string) (int64, bool) {
	d, ok := c.num(v, param)
	if !ok {
		return 0, false
	}
	i, ok := d.Int64()
	if !ok {
		c.null("%s must be an integer, not %s", param, d)
		return 0, false
	}
	return i, true
}

func (c *call) list(v Value, param string) ([]Value, bool) {
	if v.kind != KindList {
		c.typeError(param, "a list", v)
		return nil, false
	}
	return v.items(), true
}

func (c *call) context(v Value, param string) (*Context, bool) {
	if v.kind != KindContext {
		c.typeError(param, "a context", v)
		return nil, false
	}
	return v.ctx(), true
}

// stringFn defines a built-in over strings only.
func stringFn(name string, params []string, fn func(c *call, s []string) Value) {
	define(name, params, func(c *call, args []Value) Value {
		ss := make([]string, len(args))
		for i, a := range args {
			s, ok := c.str(a, params[i])
			if !ok {
				return Null
			}
			ss[i] = s
		}
		return fn(c, ss)
	})
}

func init() {
	define("substring", []string{"string", "start position"}, substring)
	define("substring", []string{"string", "start position", "length"}, substring)
	stringFn("string length", []string{"string"}, func(_ *call, s []string) Value {
		return Int(int64(utf8.RuneCountInString(s[0])))
	})
	stringFn("upper case", []string{"string"}, func(_ *call, s []string) Value { return String(strings.ToUpper(s[0])) })
	stringFn("lower case", []string{"string"}, func(_ *call, s []string) Value { return String(strings.ToLower(s[0])) })
	stringFn("substring before", []string{"string", "match"}, func(_ *call, s []string) Value {
		if i := strings.Index(s[0], s[1]); i >= 0 {
			return String(s[0][:i])
		}
		return String("")
	})
	stringFn("substring after", []string{"string", "match"}, func(_ *call, s []string) Value {
		if i := strings.Index(s[0], s[1]); i >= 0 {
			return String(s[0][i+len(s[1]):])
		}
		return String("")
	})
	stringFn("contains", []string{"string", "match"}, func(_ *call, s []string) Value { return Bool(strings.Contains(s[0], s[1])) })
	stringFn("starts with", []string{"string", "match"}, func(_ *call, s []string) Value { return Bool(strings.HasPrefix(s[0], s[1])) })
	stringFn("ends with", []string{"string", "match"}, func(_ *call, s []string) Value { return Bool(strings.HasSuffix(s[0], s[1])) })
	stringFn("matches", []string{"input", "pattern"}, matches)
	stringFn("matches", []string{"input", "pattern", "flags"}, matches)
	stringFn("replace", []string{"input", "pattern", "replacement"}, replace)
	stringFn("replace", []string{"input", "pattern", "replacement", "flags"}, replace)
	stringFn("split", []string{"string", "delimiter"}, func(c *call, s []string) Value {
		re, ok := c.regexp(s[1], "")
		if !ok {
			return Null
		}
		parts := re.Split(s[0], -1)
		out := make([]Value, len(parts))
		for i, p := range parts {
			out[i] = String(p)
		}
		return List(out...)
	})
	define("string join", []string{"list"}, stringJoin)
	define("string join", []string{"list", "delimiter"}, stringJoin)
}

// substring counts in characters (code points), from 1; a negative start
// counts from the end.
func substring(c *call, args []Value) Value {
	s, ok1 := c.str(args[0], "string")
	start, ok2 := c.integer(args[1], "start position")
	if !ok1 || !ok2 {
		return Null
	}
	r := []rune(s)
	n := int64(len(r))
	from := start - 1
	if start < 0 {
		from = n + start
	} else if start == 0 {
		from = 0
	}
	from = max(min(from, n), 0)
	to := n
	if len(args) == 3 {
		l, ok := c.integer(args[2], "length")
		if !ok {
			return Null
		}
		if l < 0 {
			return c.null("length must not be negative")
		}
		to = min(from+l, n)
	}
	return String(string(r[from:to]))
}

func stringJoin(c *call, args []Value) Value {
	items, ok := c.list(args[0], "list")
	if !ok {
		return Null
	}
	sep := ""
	if len(args) == 2 && args[1].kind != KindNull {
		if sep, ok = c.str(args[1], "delimiter"); !ok {
			return Null
		}
	}
	var b strings.Builder
	first := true
	for _, it := range items {
		switch it.kind {
		case KindNull:
			continue
		case KindString:
		default:
			return c.null("list must hold strings, not a %s", it.kind)
		}
		if !first {
			b.WriteString(sep)
		}
		first = false
		b.WriteString(it.str())
		c.st.checkLen(c.pos, b.Len())
	}
	return String(b.String())
}

func matches(c *call, s []string) Value {
	flags := ""
	if len(s) == 3 {
		flags = s[2]
	}
	re, ok := c.regexp(s[1], flags)
	if !ok {
		return Null
	}
	return Bool(re.MatchString(s[0]))
}

func replace(c *call, s []string) Value {
	flags := ""
	if len(s) == 4 {
		flags = s[3]
	}
	re, ok := c.regexp(s[1], flags)
	if !ok {
		return Null
	}
	out := re.ReplaceAllString(s[0], xpathReplacement(s[2]))
	c.st.checkLen(c.pos, len(out))
	return String(out)
}

// xpathReplacement turns an XPath replacement string ($1 for a group, \$
// and \\ for the characters) into Go's form (${1}, $$).
func xpathReplacement(r string) string {
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		switch c := r[i]; {
		case c == '\\' && i+1 < len(r):
			i++
			if r[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(r[i])
			}
		case c == '$':
			j := i + 1
			for j < len(r) && r[j] >= '0' && r[j] <= '9' {
				j++
			}
			if j == i+1 {
				b.WriteString("$$")
				continue
			}
			b.WriteString("${" + r[i+1:j] + "}")
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

var (
	regexpCache     sync.Map // pattern+flags → *regexp.Regexp
	regexpCacheSize int
	regexpCacheMu   sync.Mutex
)

// regexp compiles an XML Schema / XPath regular expression with flags
// (s, m, i, x, q) into Go's RE2 syntax; RE2 runs in linear time, so no
// pattern can hang an evaluation. Back-references are not supported.
func (c *call) regexp(pattern, flags string) (*regexp.Regexp, bool) {
	key := flags + "\x00" + pattern
	if re, ok := regexpCache.Load(key); ok {
		return re.(*regexp.Regexp), true
	}
	var prefix string
	for _, f := range flags {
		switch f {
		case 's', 'm', 'i':
			prefix += string(f)
		case 'x':
			pattern = strings.Map(func(r rune) rune {
				if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
					return -1
				}
				return r
			}, pattern)
		case 'q':
			pattern = regexp.QuoteMeta(pattern)
		default:
			c.null("unknown regular expression flag %q", f)
			return nil, false
		}
	}
	if prefix != "" {
		pattern = "(?" + prefix + ")" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		c.null("bad regular expression: %v", err)
		return nil, false
	}
	regexpCacheMu.Lock()
	if regexpCacheSize < 1000 {
		regexpCacheSize++
		regexpCache.Store(key, re)
	}
	regexpCacheMu.Unlock()
	return re, true
}

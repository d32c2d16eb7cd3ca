package feel

import (
	"slices"
	"strings"
	"sync"
)

// FEEL names may contain spaces ("order total", "string length"). The
// parser reads consecutive words that are not keywords as one name; names
// that contain keywords or operator characters ("date and time",
// "tracking-id") are recognised when they are known: the built-in
// functions' names and those declared with WithNames. The longest known
// match wins, as the spec's name resolution prescribes. A name can always
// be written in backquotes (`tracking-id`), as Zeebe allows.

// knownNames indexes names by their first word: the built-ins' (shared by
// every compilation) and those of one compilation.
type knownNames struct {
	base    map[string][]string // built-in names; never modified
	byFirst map[string][]string // first token text → normalised names
}

// builtinsWithKeywords lists the built-in names a plain word merge would
// not read ("date and time", "get or else").
func builtinsWithKeywords() []string {
	var out []string
	for name := range builtins {
		for _, w := range strings.Fields(name) {
			if keywords[w] {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

var builtinKnown = sync.OnceValue(func() map[string][]string {
	k := &knownNames{byFirst: map[string][]string{}}
	for _, n := range builtinsWithKeywords() {
		k.add(n)
	}
	return k.byFirst
})

func newKnownNames(extra []string) *knownNames {
	k := &knownNames{base: builtinKnown(), byFirst: map[string][]string{}}
	for _, n := range extra {
		k.add(n)
	}
	return k
}

// candidates returns the known names that start with the word first.
func (k *knownNames) candidates(first string) []string {
	if own := k.byFirst[first]; own != nil {
		return slices.Concat(own, k.base[first])
	}
	return k.base[first]
}

// add makes a name known; a name that reads as one word anyway, or that
// does not start with a word, needs no entry.
func (k *knownNames) add(name string) {
	norm := normalizeName(name)
	if !strings.ContainsFunc(norm, func(r rune) bool { return !isNamePart(r) }) {
		return // one word
	}
	toks, err := lex(norm)
	if err != nil || len(toks) < 3 || toks[0].kind != tWord { // at least two tokens and the end
		return
	}
	first := toks[0].text
	for _, have := range k.candidates(first) {
		if have == norm {
			return
		}
	}
	k.byFirst[first] = append(k.byFirst[first], norm)
}

// normalizeName collapses runs of white space to one space.
func normalizeName(s string) string { return strings.Join(strings.Fields(s), " ") }

// name reads a name at the current token: a backquoted name, the longest
// known name, or consecutive non-keyword words.
func (p *parser) name() (string, bool) {
	t := p.peek()
	if t.kind == tQuoted {
		p.next()
		return t.text, true
	}
	if t.kind != tWord {
		return "", false
	}
	bestLen, best := 0, ""
	for _, cand := range p.known.candidates(t.text) {
		if n := p.matchKnown(cand); n > bestLen {
			bestLen, best = n, cand
		}
	}
	// Plain words.
	words := 0
	for j := p.i; p.toks[j].kind == tWord && !keywords[p.toks[j].text]; j++ {
		words++
	}
	if words == 0 && bestLen == 0 {
		return "", false
	}
	if bestLen > words {
		p.i += bestLen
		return best, true
	}
	parts := make([]string, words)
	for k := range words {
		parts[k] = p.toks[p.i+k].text
	}
	p.i += words
	return strings.Join(parts, " "), true
}

// matchKnown returns how many tokens from the current one spell cand.
func (p *parser) matchKnown(cand string) int {
	for j := p.i; j < len(p.toks) && p.toks[j].kind != tEOF; j++ {
		text := normalizeName(p.src[p.toks[p.i].pos:p.toks[j].end])
		if text == cand {
			return j - p.i + 1
		}
		if !strings.HasPrefix(cand, text) {
			return 0
		}
	}
	return 0
}

// bind introduces a local name and returns its slot. A name with keywords
// or operator characters (a context key "tracking-id") becomes known, so
// that the rest of the expression can use it as written.
func (p *parser) bind(name string) int {
	p.known.add(name)
	slot := p.nslots
	p.nslots++
	p.binds = append(p.binds, binding{name: name, slot: slot})
	return slot
}

// unbind drops the bindings made since mark.
func (p *parser) unbind(mark int) { p.binds = p.binds[:mark] }

func (p *parser) lookupBinding(name string) (binding, bool) {
	b, _, ok := p.lookupBindingIndex(name)
	return b, ok
}

func (p *parser) lookupBindingIndex(name string) (binding, int, bool) {
	for j := len(p.binds) - 1; j >= 0; j-- {
		if p.binds[j].name == name {
			return p.binds[j], j, true
		}
	}
	return binding{}, 0, false
}

// reference resolves a name used as a value.
func (p *parser) reference(name string, pos int) node {
	b, j, ok := p.lookupBindingIndex(name)
	var target node
	switch {
	case ok:
		target = &localNode{at(pos), b.slot}
		// A binding made inside the innermost filter shadows the items'
		// keys; one made outside is itself shadowed by them.
		if len(p.filters) == 0 || j >= p.filters[len(p.filters)-1] {
			return target
		}
	default:
		p.useVar(name)
		target = &varNode{at(pos), name}
		if len(p.filters) == 0 {
			return target
		}
	}
	return &itemKeyNode{at(pos), name, target}
}

func (p *parser) useVar(name string) {
	if p.varSeen == nil {
		p.varSeen = map[string]bool{}
	}
	if !p.varSeen[name] {
		p.varSeen[name] = true
		p.varNames = append(p.varNames, name)
	}
}

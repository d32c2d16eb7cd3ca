package bpmn

import (
	"strings"
	"testing"
)

func TestPositionIn(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string // the text starts at '|'; want names the decoded offset
		want int
		line int
		col  int
	}{
		{"plain", "|amount > 10", 7, 1, 9},
		{"entities", "|amount &gt; &gt; 10", 9, 1, 14},
		{"numeric entities", "|&#x41;&#8364;x", 4, 1, 15},
		{"next line", "|a and\n  b c", 8, 2, 3},
		{"CR LF", "|a and\r\n  b c", 8, 2, 3},
		{"CDATA", "|<![CDATA[a > > 1]]>", 4, 1, 15},
		{"after CDATA", "|<![CDATA[a]]> &lt; b", 3, 1, 20},
		{"comment", "|a <!-- hm -->+ b", 3, 1, 16},
		{"unterminated entity", "|a &gt b", 5, 1, 4},
	} {
		start := strings.IndexByte(tc.src, '|')
		src := []byte(strings.Replace(tc.src, "|", " ", 1))
		line, col := positionIn(src, start+1, 1, start+2, tc.want)
		if line != tc.line || col != tc.col {
			t.Errorf("%s: %d:%d, want %d:%d", tc.name, line, col, tc.line, tc.col)
		}
	}
}

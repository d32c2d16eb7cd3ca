package gctarget

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestApply(t *testing.T) {
	cases := []struct {
		name  string
		gogc  *string // nil: unset
		wants int
	}{
		{"GOGC unset", nil, Percent},
		{"GOGC set", ptr("200"), 150},
		{"GOGC set empty", ptr(""), 150},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOGC", "restored after the test")
			if tc.gogc == nil {
				os.Unsetenv("GOGC")
			} else {
				os.Setenv("GOGC", *tc.gogc)
			}
			before := debug.SetGCPercent(150)
			defer debug.SetGCPercent(before)
			restore := Apply()
			if got := debug.SetGCPercent(tc.wants); got != tc.wants {
				t.Fatalf("target %d, want %d", got, tc.wants)
			}
			restore()
			if got := debug.SetGCPercent(150); got != 150 {
				t.Fatalf("after restore the target is %d, want 150", got)
			}
		})
	}
}

func ptr(s string) *string { return &s }

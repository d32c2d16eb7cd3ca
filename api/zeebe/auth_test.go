package zeebe

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestTokenCheck(t *testing.T) {
	ts := newTokenSet([]string{"alpha", " beta ", ""})
	for _, tc := range []struct {
		name   string
		header []string // values of "authorization"
		want   codes.Code
		says   string
	}{
		{"accepted", []string{"Bearer alpha"}, codes.OK, ""},
		{"trimmed when configured", []string{"Bearer beta"}, codes.OK, ""},
		{"scheme in any case", []string{"bearer alpha"}, codes.OK, ""},
		{"no header", nil, codes.Unauthenticated, "found nothing"},
		{"another scheme", []string{"Basic YWxwaGE="}, codes.Unauthenticated, "'Bearer <token>'"},
		{"no token", []string{"Bearer "}, codes.Unauthenticated, "'Bearer <token>'"},
		{"unknown token", []string{"Bearer alph"}, codes.Unauthenticated, "not one this gateway accepts"},
		{"empty token configured is no token", []string{"Bearer"}, codes.Unauthenticated, "'Bearer <token>'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := metadata.MD{}
			for _, v := range tc.header {
				md.Append("authorization", v)
			}
			err := ts.check(metadata.NewIncomingContext(context.Background(), md))
			if status.Code(err) != tc.want {
				t.Fatalf("check: %v, want %s", err, tc.want)
			}
			if err != nil && !strings.Contains(status.Convert(err).Message(), tc.says) {
				t.Fatalf("message %q does not say %q", status.Convert(err).Message(), tc.says)
			}
		})
	}
	if err := newTokenSet(nil).check(context.Background()); err != nil {
		t.Fatalf("without tokens every request passes: %v", err)
	}
}

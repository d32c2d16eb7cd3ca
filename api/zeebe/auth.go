package zeebe

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// tokenSet holds the accepted bearer tokens as SHA-256 digests: comparing
// digests of equal length in constant time tells nothing of a token's
// length or prefix.
type tokenSet [][sha256.Size]byte

func newTokenSet(tokens []string) tokenSet {
	var out tokenSet
	for _, t := range tokens {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, sha256.Sum256([]byte(t)))
		}
	}
	return out
}

// check accepts a request whose metadata carries "authorization: Bearer T"
// with an accepted T, or any request when no token is configured. Zeebe
// clients send the token their OAuth provider got for the client
// credentials; a refused one is UNAUTHENTICATED, on which they fetch a new
// token and retry.
func (ts tokenSet) check(ctx context.Context) error {
	if len(ts) == 0 {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get("authorization")
	if len(values) == 0 {
		return status.Error(codes.Unauthenticated, "Expected bearer token at header with key [authorization], but found nothing")
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return status.Error(codes.Unauthenticated, "Expected the authorization header to be 'Bearer <token>', but it is not")
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match := 0
	for i := range ts {
		match |= subtle.ConstantTimeCompare(got[:], ts[i][:])
	}
	if match != 1 {
		return status.Error(codes.Unauthenticated, "Expected a valid bearer token at header with key [authorization], but the token is not one this gateway accepts")
	}
	return nil
}

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eddy/api/zeebe/internal/selfsigned"
)

// staticToken is a Zeebe client credentials provider with a fixed token,
// as an application with a token from elsewhere would write it.
type staticToken string

func (s staticToken) ApplyCredentials(_ context.Context, headers map[string]string) error {
	headers["Authorization"] = "Bearer " + string(s)
	return nil
}

func (staticToken) ShouldRetryRequest(context.Context, error) bool { return false }

// TestSecuredGateway runs `eddy dev` with a TLS certificate and bearer
// tokens (one by flag, one by environment): zbctl gets its token from an
// OAuth authorization server by client credentials and works, as does the
// Go client with a token; without a token, or without TLS, nothing passes.
func TestSecuredGateway(t *testing.T) {
	cert, key, err := selfsigned.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	authz := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
		}
		if r.Form.Get("grant_type") != "client_credentials" || id != "ops" || secret != "s3cret" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "token-from-env", "token_type": "Bearer", "expires_in": 3600})
	}))
	defer authz.Close()

	e := startEddy(t, []string{"EDDY_GRPC_TOKENS=token-from-env, other"}, "--grpc-tls-cert", cert, "--grpc-tls-key", key, "--grpc-token", "token-from-flag")
	if ready := e.ready; !strings.Contains(ready, "grpc_tls=true") || !strings.Contains(ready, "grpc_tokens=3") {
		t.Errorf("the ready line does not report TLS and 3 tokens: %s", ready)
	}
	secure := func(args ...string) []string {
		return append([]string{"--certPath", cert, "--clientCache", filepath.Join(t.TempDir(), "credentials")}, args...)
	}
	// Over TLS: without zbctl's --insecure.
	zb := func(args ...string) (string, error) {
		out, errOut, err := zbctlSecure(t, e, args...)
		return out + errOut, err
	}
	if out, err := zb(secure("--clientId", "ops", "--clientSecret", "s3cret", "--audience", "eddy", "--authzUrl", authz.URL, "status")...); err != nil || !strings.Contains(out, "Partitions count: 3") {
		t.Fatalf("zbctl with an OAuth token over TLS: %v\n%s", err, out)
	}
	if out, err := zb(secure("status")...); err == nil || !strings.Contains(out, "Unauthenticated") {
		t.Fatalf("zbctl without a token: %v\n%s", err, out)
	}

	for _, tc := range []struct {
		name  string
		token string
		code  codes.Code
	}{{"token by flag", "token-from-flag", codes.OK}, {"unknown token", "guess", codes.Unauthenticated}} {
		c, err := zbc.NewClient(&zbc.ClientConfig{GatewayAddress: e.grpc, CaCertificatePath: cert, CredentialsProvider: staticToken(tc.token)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.NewTopologyCommand().Send(testContext(t))
		c.Close()
		if status.Code(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	_, err = e.client(t).NewTopologyCommand().Send(testContext(t))
	if status.Code(err) != codes.Unavailable {
		t.Errorf("a plaintext client of the TLS gateway: %v, want UNAVAILABLE", err)
	}
}

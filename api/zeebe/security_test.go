package zeebe

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/camunda/zeebe/clients/go/v8/pkg/worker"
	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"google.golang.org/grpc/codes"

	"eddy/api/zeebe/internal/selfsigned"
)

// tokenServer is an OAuth authorization server that grants, by client
// credentials, the token its table names for the client id.
func tokenServer(t *testing.T, tokens map[string]string) (url string, grants *atomic.Int64) {
	grants = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "client_credentials" {
			http.Error(w, "want a client credentials grant", http.StatusBadRequest)
			return
		}
		id, _, ok := r.BasicAuth()
		if !ok {
			id = r.Form.Get("client_id")
		}
		token, known := tokens[id]
		if !known {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		grants.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(srv.Close)
	return srv.URL, grants
}

// oauthClient is a Zeebe client that authenticates as clientID with the
// OAuth credentials provider, as applications do against Camunda SaaS.
func oauthClient(t *testing.T, addr, authURL, clientID string) zbc.Client {
	t.Helper()
	cache, err := zbc.NewOAuthYamlCredentialsCache(filepath.Join(t.TempDir(), "credentials"))
	if err != nil {
		t.Fatal(err)
	}
	provider, err := zbc.NewOAuthCredentialsProvider(&zbc.OAuthProviderConfig{ClientID: clientID, ClientSecret: "secret",
		Audience: "eddy", AuthorizationServerURL: authURL, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	c, err := zbc.NewClient(&zbc.ClientConfig{GatewayAddress: addr, UsePlaintextConnection: true, CredentialsProvider: provider})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestBearerTokens: with tokens configured, a request needs one of them;
// the Go client's OAuth provider brings its token along, on unary calls
// and on job activation streams.
func TestBearerTokens(t *testing.T) {
	g := startGateway(t, WithBearerTokens("token-1", "token-2"))
	authURL, grants := tokenServer(t, map[string]string{"worker-app": "token-2", "stranger": "forged"})

	_, err := g.client.NewTopologyCommand().Send(testContext(t))
	wantStatus(t, err, codes.Unauthenticated, "found nothing")
	_, err = g.client.NewActivateJobsCommand().JobType("a").MaxJobsToActivate(1).Send(testContext(t))
	wantStatus(t, err, codes.Unauthenticated, "found nothing")

	forged := oauthClient(t, g.addr, authURL, "stranger")
	_, err = forged.NewTopologyCommand().Send(testContext(t))
	wantStatus(t, err, codes.Unauthenticated, "not one this gateway accepts")

	c := oauthClient(t, g.addr, authURL, "worker-app")
	deploy(t, c, "service-task.bpmn")
	handled := make(chan int64, 1)
	w := c.NewJobWorker().JobType("charge-card").Handler(func(client worker.JobClient, job entities.Job) {
		if _, err := client.NewCompleteJobCommand().JobKey(job.Key).Send(testContext(t)); err != nil {
			t.Error(err)
		}
		handled <- job.ProcessInstanceKey
	}).PollInterval(20 * time.Millisecond).RequestTimeout(200 * time.Millisecond).Open()
	t.Cleanup(w.Close)
	resp, err := c.NewCreateInstanceCommand().BPMNProcessId("charge").LatestVersion().WithResult().Send(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if pi := <-handled; pi != resp.ProcessInstanceKey {
		t.Fatalf("worker handled a job of instance %d, want %d", pi, resp.ProcessInstanceKey)
	}
	if n := grants.Load(); n < 2 {
		t.Fatalf("the authorization server granted %d tokens, want one per client at least", n)
	}
}

// TestTLS: with a certificate the gateway speaks TLS only; a client that
// trusts the certificate works, a plaintext one does not.
func TestTLS(t *testing.T) {
	certFile, keyFile := selfSignedCertificate(t)
	cfg, err := LoadTLS(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	e := startEngine(t, openStore(t))
	addr := serveGRPC(t, New(Static(e), WithTLS(cfg)))
	secure, err := zbc.NewClient(&zbc.ClientConfig{GatewayAddress: addr, CaCertificatePath: certFile})
	if err != nil {
		t.Fatal(err)
	}
	defer secure.Close()
	deploy(t, secure, "start-end.bpmn")
	if _, err := secure.NewCreateInstanceCommand().BPMNProcessId("noop").LatestVersion().WithResult().Send(testContext(t)); err != nil {
		t.Fatal(err)
	}
	_, err = newClient(t, addr).NewTopologyCommand().Send(testContext(t))
	wantStatus(t, err, codes.Unavailable)

	for _, tc := range []struct{ cert, key, want string }{
		{certFile, "", "private key"},
		{"", keyFile, "needs a certificate"},
		{keyFile, certFile, "loading the TLS certificate"},
		{filepath.Join(t.TempDir(), "missing.pem"), keyFile, "missing.pem"},
	} {
		if _, err := LoadTLS(tc.cert, tc.key); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadTLS(%q, %q): %v, want an error saying %q", tc.cert, tc.key, err, tc.want)
		}
	}
}

// selfSignedCertificate writes a certificate for 127.0.0.1 and its key.
func selfSignedCertificate(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile, err := selfsigned.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

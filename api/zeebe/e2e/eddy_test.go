package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"eddy/api/rest"
	"eddy/internal/proctest"
)

// eddy is a running `eddy dev` process.
type eddy struct {
	proc  *proctest.Process
	grpc  string // host:port of the Zeebe gateway
	http  string // base URL of the REST API
	ready string // the line it logged when ready
}

var readyLine = regexp.MustCompile(`msg="eddy is ready".* http=(\S+) grpc=(\S+).*`)

// startEddy runs `eddy dev` on a fresh data directory with three
// partitions and free ports, plus extra flags, until the test ends, when
// it is stopped with SIGTERM and must exit cleanly.
func startEddy(t testing.TB, env []string, extra ...string) *eddy {
	t.Helper()
	// The seed models' jobs of type cloudevents are worked by the tests'
	// own workers, as Zeebe users did before Eddy's built-in one.
	args := append([]string{"dev", "--data", filepath.Join(t.TempDir(), "data"), "--partitions", "3",
		"--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--cloudevents-jobs=false"}, extra...)
	cmd := exec.Command(eddyBinary, args...)
	cmd.Env = append(os.Environ(), env...)
	e := &eddy{proc: proctest.Start(t, cmd)}
	t.Cleanup(func() { e.proc.Stop(t) })
	m := e.proc.WaitFor(t, readyLine)
	e.ready, e.http, e.grpc = m[0], "http://"+m[1], m[2]
	return e
}

// client is a Zeebe Go client of e, plaintext, as in development.
func (e *eddy) client(t testing.TB) zbc.Client {
	t.Helper()
	c, err := zbc.NewClient(&zbc.ClientConfig{GatewayAddress: e.grpc, UsePlaintextConnection: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// raw is the protocol client, for the RPCs the Go client of 8.3 lacks.
func (e *eddy) raw(t testing.TB) pb.GatewayClient {
	t.Helper()
	conn, err := grpc.Dial(e.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewGatewayClient(conn)
}

// rest is Eddy's REST client, to look at instances and incidents, which
// the Zeebe protocol cannot.
func (e *eddy) rest() *rest.Client { return rest.NewClient(e.http, nil) }

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard
	t.Cleanup(cancel)
	return ctx
}

// fixture reads a file of the gateway's testdata.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"

	"eddy/api/rest"
	"eddy/api/zeebe"
	"eddy/broker"
	"eddy/cluster"
	"eddy/engine"
	"eddy/storage"
)

// devConfig is what `eddy dev` runs with.
type devConfig struct {
	backend    string
	dataDir    string
	dsn        string
	partitions int
	// partitionsGiven says --partitions was on the command line: its 0
	// stands for the flag left out, so a 0 given must be told apart.
	partitionsGiven bool
	logLevel        string
	claimTimeout    time.Duration
	httpAddr        string
	grpc            grpcConfig
	// advertise is the URL other nodes reach this one at (PostgreSQL).
	advertise     string
	clusterSecret string
	triggers      []string
	// cloudEventJobs runs the built-in worker of jobs of type cloudevents.
	cloudEventJobs bool
	// messageTTL and deliveryTimeout are the broker's (broker.WithMessageTTL,
	// broker.WithDeliveryTimeout).
	messageTTL      time.Duration
	deliveryTimeout time.Duration
	// dedupWindow is how long a CloudEvent's source and id are
	// remembered (engine.Limits.EventDedupWindow).
	dedupWindow time.Duration
	// triggerSegments is how many segments a new trigger's processor has.
	triggerSegments int
	// allowOrigins are the hosts of pages of other origins that may follow
	// and send events (broker.WithAllowedOrigins).
	allowOrigins []string
}

func newDevCommand() *cobra.Command {
	var cfg devConfig
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run Eddy on this machine with embedded storage and no set-up",
		Long: `Run Eddy on this machine. By default everything is kept in an embedded
store in --data (created if missing); --storage postgres with --dsn keeps it
in PostgreSQL instead, so that several nodes can share the work. The REST
API is served on --http (see /v1/openapi.json there), and Zeebe's gateway
protocol on --grpc, so that Zeebe clients, job workers and zbctl work
unchanged. gRPC is plaintext and open unless --grpc-tls-cert/--grpc-tls-key
and --grpc-token (or ` + tokensEnv + `, comma-separated) are given.

The HTTP port is also the CloudEvents broker: POST /v1/events takes events,
triggers (Knative's Trigger YAML, from --triggers files or PUT
/v1/triggers/{namespace}/{name}) deliver them, and /v1/events/stream (SSE)
and /v1/events/ws (WebSocket) push them live. With PostgreSQL, any node
takes any request and forwards it to the node that holds its partition.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.partitionsGiven = cmd.Flags().Changed("partitions")
			return runDev(cmd.Context(), cfg, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.backend, "storage", "pebble", "storage backend: "+strings.Join(storage.Backends(), " or "))
	f.StringVar(&cfg.dataDir, "data", "eddy-data", "data directory of the embedded (pebble) storage")
	f.StringVar(&cfg.dsn, "dsn", "", "PostgreSQL connection string, with --storage postgres")
	f.IntVar(&cfg.partitions, "partitions", 0, fmt.Sprintf("partition count of a new store, 1 to %d (default %d); an existing store has its own, and a different count is refused", storage.MaxPartitions, storage.DefaultPartitions))
	f.StringVar(&cfg.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.DurationVar(&cfg.claimTimeout, "claim-timeout", 10*time.Second, "how long a node's partition claims outlive it before other nodes take them over (triggers' segments keep their own 10s)")
	f.StringVar(&cfg.httpAddr, "http", ":8080", "address of the REST API (host:port; port 0 picks a free one)")
	f.StringVar(&cfg.grpc.addr, "grpc", ":26500", "address of the Zeebe gRPC gateway (host:port; port 0 picks a free one; empty: none)")
	f.StringVar(&cfg.grpc.tlsCert, "grpc-tls-cert", "", "PEM certificate (chain) of the gRPC gateway, with --grpc-tls-key: serve TLS")
	f.StringVar(&cfg.grpc.tlsKey, "grpc-tls-key", "", "PEM private key of --grpc-tls-cert")
	f.StringArrayVar(&cfg.grpc.tokens, "grpc-token", nil, "bearer token gRPC requests must carry (repeat for several; "+tokensEnv+" adds more); none: open")
	f.StringVar(&cfg.advertise, "advertise", "", "with --storage postgres: the URL other nodes reach this node's HTTP port at (default http://<host of --http, or this host's name>:<port>)")
	f.StringVar(&cfg.clusterSecret, "cluster-secret", "", "with --storage postgres: the secret nodes present to each other when they forward requests ("+clusterSecretEnv+" also sets it); none: the network is trusted")
	f.StringArrayVar(&cfg.triggers, "triggers", nil, "YAML file of Knative-style triggers to apply at start (repeat for several)")
	f.BoolVar(&cfg.cloudEventJobs, "cloudevents-jobs", true, "work jobs of type \"cloudevents\" here (emit their events into the broker); false leaves them to external workers")
	f.IntVar(&cfg.triggerSegments, "trigger-segments", broker.DefaultTriggerSegments, "how many segments a new trigger delivers from: the deliveries of one unordered trigger (or sequences of an ordered one) that run at once, a power of two from 1 to 1024; triggers made before keep theirs")
	f.DurationVar(&cfg.dedupWindow, "dedup-window", engine.DefaultLimits.EventDedupWindow, "how long a CloudEvent's source and id are remembered, so that a redelivery is accepted once (memory grows with the event rate times the window)")
	f.DurationVar(&cfg.messageTTL, "message-ttl", broker.DefaultMessageTTL, "how long a CloudEvent with a correlationkey waits, as a message, for an instance to correlate to (0: only instances already waiting)")
	f.StringArrayVar(&cfg.allowOrigins, "allow-origin", nil, "host[:port] pattern of browser pages on other origins that may follow events live over SSE and WebSocket and send events to the ingress, such as localhost:5173 or *.example.com (repeat for several; * for any)")
	f.DurationVar(&cfg.deliveryTimeout, "delivery-timeout", broker.DefaultDeliveryTimeout, "bound of each delivery attempt of the triggers that set no delivery.timeout")
	return cmd
}

// location picks the backend's location from the flags, refusing flags that
// do not fit the backend.
func (c devConfig) location() (string, error) {
	switch c.backend {
	case "postgres":
		if c.dsn == "" {
			return "", usageError{fmt.Errorf("--storage postgres needs --dsn (for example postgres://postgres@127.0.0.1:5432/eddy)")}
		}
		return c.dsn, nil
	case "pebble":
		if c.dsn != "" {
			return "", usageError{fmt.Errorf("--dsn is for --storage postgres; the pebble storage uses --data")}
		}
		return c.dataDir, nil
	}
	return "", usageError{fmt.Errorf("unknown storage backend %q for --storage (known: %s)", c.backend, strings.Join(storage.Backends(), ", "))}
}

func runDev(ctx context.Context, cfg devConfig, stderr interface{ Write([]byte) (int, error) }) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return usageError{fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", cfg.logLevel)}
	}
	// A 0 given is refused, not read as the flag left out: a store
	// created with the default count would not be the one asked for, and
	// an existing store would seem to accept the 0.
	if cfg.partitions < 0 || cfg.partitions > storage.MaxPartitions || (cfg.partitionsGiven && cfg.partitions == 0) {
		return usageError{fmt.Errorf("invalid --partitions %d: use 1 to %d, or leave the flag out (a new store gets %d, an existing one keeps its own)",
			cfg.partitions, storage.MaxPartitions, storage.DefaultPartitions)}
	}
	if cfg.claimTimeout < 10*time.Millisecond {
		return usageError{fmt.Errorf("invalid --claim-timeout %v: use at least 10ms", cfg.claimTimeout)}
	}
	if n := cfg.triggerSegments; n < 1 || n > 1024 || n&(n-1) != 0 {
		return usageError{fmt.Errorf("invalid --trigger-segments %d: use a power of two from 1 to 1024", n)}
	}
	if cfg.dedupWindow < time.Second || cfg.dedupWindow > 24*time.Hour {
		return usageError{fmt.Errorf("invalid --dedup-window %v: use 1s to 24h", cfg.dedupWindow)}
	}
	if cfg.messageTTL < 0 {
		return usageError{fmt.Errorf("invalid --message-ttl %v: use 0 or more", cfg.messageTTL)}
	}
	for _, o := range cfg.allowOrigins {
		if _, err := path.Match(o, ""); err != nil || o == "" || strings.Contains(o, "://") {
			return usageError{fmt.Errorf("invalid --allow-origin %q: give a host[:port] pattern such as localhost:5173 or *.example.com", o)}
		}
	}
	if cfg.deliveryTimeout <= 0 {
		return usageError{fmt.Errorf("invalid --delivery-timeout %v: use more than 0", cfg.deliveryTimeout)}
	}
	location, err := cfg.location()
	if err != nil {
		return err
	}
	triggers, err := readTriggerFiles(cfg.triggers)
	if err != nil {
		return err
	}
	grpcOpts, grpcTokens, err := cfg.grpc.options()
	if err != nil {
		return err
	}
	ln, err := listenHTTP(cfg.httpAddr)
	if err != nil {
		return err
	}
	defer ln.Close()
	grpcLn, err := listenGRPC(cfg.grpc.addr)
	if err != nil {
		return err
	}
	if grpcLn != nil {
		defer grpcLn.Close()
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if a, ok := ln.Addr().(*net.TCPAddr); grpcTokens > 0 && ok && !a.IP.IsLoopback() && !a.IP.IsPrivate() {
		// A Zeebe user who secures the gateway with tokens would take the
		// engine for protected: its HTTP API is not.
		logger.Warn("--grpc-token guards the gRPC gateway only: the HTTP API on --http (REST, CloudEvents ingress, triggers, event streams) takes requests without one; "+
			"bind --http to a loopback or private address, or put a proxy that authenticates in front of it", "http", ln.Addr().String())
	}
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	store, err := storage.Open(openCtx, cfg.backend, location, storage.WithPartitions(cfg.partitions), storage.WithLogger(logger))
	if err != nil {
		return err
	}
	defer store.Close()

	node := newNodeName()
	owner, peers, secret := node, engine.Peers(nil), ""
	if cfg.backend == "postgres" {
		// Nodes find each other through the partition claims: the owner
		// name carries the address requests are forwarded to.
		advertise := cfg.advertise
		if advertise == "" {
			advertise = defaultAdvertise(ln)
		}
		if owner, err = cluster.Owner(node, advertise); err != nil {
			return usageError{fmt.Errorf("--advertise: %w", err)}
		}
		secret = cfg.clusterSecret
		if secret == "" {
			secret = os.Getenv(clusterSecretEnv)
		}
		peers = cluster.NewPeers(store, nil, secret)
	}
	claims := newPartitionClaims(store, owner, cfg.claimTimeout, logger)
	claims.mark = cluster.SecretMark(secret)
	if grpcLn != nil {
		claims.grpcPort = grpcLn.Addr().(*net.TCPAddr).Port
	}
	if p, ok := peers.(*cluster.Peers); ok {
		grpcOpts = append(grpcOpts, zeebe.WithNodes(func(ctx context.Context) ([]zeebe.Node, error) {
			return topologyNodes(ctx, store, cfg.claimTimeout)
		}), zeebe.WithProbe(p.Probe))
		p.OnUnowned(claims.nudge)
		// A partition a stopping node hands back is taken at the other
		// nodes' next round: a request waits for that, and the start.
		p.SetOwnerWait(max(cluster.DefaultOwnerWait, cfg.claimTimeout/3+2*time.Second))
	}
	staleAfter := cfg.claimTimeout
	if cfg.backend == "pebble" {
		// Only one process can open an embedded store, so any claim found
		// there was left by a process that is gone.
		staleAfter = time.Nanosecond
		claims.alone = true
	}
	if err := claims.checkSecret(ctx); err != nil {
		return err
	}
	if err := claims.claimFree(ctx, staleAfter, claims.plan(ctx, claims.look(ctx))); err != nil {
		return err
	}
	limits := engine.DefaultLimits
	limits.EventDedupWindow = cfg.dedupWindow
	engines, err := startEngineSwitch(ctx, store, claims.epochs(), peers, limits, logger)
	if err != nil {
		claims.release()
		return err
	}
	// The owner name is unique among live nodes (it holds the address the
	// node listens on) and the same after a restart, so a restarted node
	// takes its partitions and its triggers' segments back at once.
	brokerNode := owner
	if cfg.backend == "pebble" {
		// One process per embedded store: a stable name lets a restarted
		// node take its triggers' claims back at once.
		brokerNode = "embedded"
	}
	brk, err := startBroker(ctx, engines, store, brokerNode, cfg, triggers, logger)
	if err != nil {
		engines.close()
		claims.release()
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", brk.Handler()) // the broker's routes, then REST
	// One document for the port, over the REST servers' own: the broker's
	// API beside the REST API, merged when first asked for rather than at
	// every start (both parts are built in; tests keep the merge valid).
	apiDoc := sync.OnceValues(func() ([]byte, error) { return rest.MergeOpenAPI(rest.OpenAPI(), broker.OpenAPI()) })
	mux.HandleFunc("GET /v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		doc, err := apiDoc()
		if err != nil {
			http.Error(w, "describing the HTTP API: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})
	if peers != nil {
		mux.Handle("/internal/", cluster.Handler(engines, secret, logger))
	}
	fast := brk.FastRoute
	if peers != nil {
		fast = func(method, path string) http.Handler {
			if strings.HasPrefix(path, "/internal/") {
				return nil // the peers' calls, which mux routes before the broker
			}
			return brk.FastRoute(method, path)
		}
	}
	httpAddr, stopHTTP := serveHTTP(ln, mux, fast, logger)
	grpcAddr, stopGRPC := "none", func() {}
	if grpcLn != nil {
		grpcAddr, stopGRPC = serveGRPC(grpcLn, engines, claims.node, grpcOpts, logger)
	}
	logger.Info("eddy is ready", "storage", cfg.backend, "location", describeLocation(cfg.backend, location),
		"partitions", store.Partitions(), "claimed", len(claims.held), "node", claims.node, "http", httpAddr, "grpc", grpcAddr,
		"grpc_tls", cfg.grpc.tlsCert != "", "grpc_tokens", grpcTokens)
	claims.run(ctx, engines, func(epochs map[int]uint64) { engines.switchTo(ctx, epochs) })
	// Requests in flight (long polls, live streams) end first, then the
	// servers, the broker, the engine and the claims, in that order.
	engines.stop()
	brk.EndStreams()
	stopGRPC()
	stopHTTP()
	closeCtx, cancelClose := context.WithTimeout(context.Background(), 10*time.Second)
	if err := brk.Close(closeCtx); err != nil {
		logger.Warn("stopping the broker", "error", err)
	}
	cancelClose()
	engines.close()
	claims.release()
	logger.Info("eddy stopped")
	return nil
}

// newNodeName names the node after its host. Nodes on one host are told
// apart by the address each advertises, which their owner names carry; a
// name that stays the same when the node restarts lets it take back what it
// held without waiting for its claims to time out.
func newNodeName() string {
	host, err := os.Hostname()
	if err != nil || host == "" || strings.Contains(host, "@") {
		host = "node"
	}
	return host
}

// describeLocation names where the data lives without the DSN's secrets: a
// password may sit in the URL's user info, its query or a keyword/value DSN.
func describeLocation(backend, location string) string {
	if backend != "postgres" {
		return location
	}
	cfg, err := pgconn.ParseConfig(location)
	if err != nil {
		return "(a DSN that does not parse)"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

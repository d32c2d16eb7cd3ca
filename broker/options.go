package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"eddy/cloudevents"
)

// Defaults.
const (
	// DefaultMaxBodyBytes is the largest request body the ingress reads:
	// far above the 64 KB every CloudEvents intermediary must take.
	DefaultMaxBodyBytes = cloudevents.DefaultLimit
	// DefaultMessageTTL keeps an event that carries a correlation key
	// buffered as a message for instances that start waiting later; it is
	// the Zeebe client's default, which the CloudEvents router used.
	DefaultMessageTTL = time.Hour
	// DefaultDeliveryTimeout bounds each delivery attempt of a trigger
	// that sets no delivery.timeout: a subscriber that never answers fails
	// the attempt, which is retried and dead-lettered by the trigger's
	// policy, rather than holding its events for ever. Five minutes is the
	// default request timeout of Knative Serving, so a subscriber that is a
	// Knative Service has answered (or been answered 504) by then.
	DefaultDeliveryTimeout = 5 * time.Minute
	// DefaultWaitTimeout is how long a WAIT_FOR_CLOUD_EVENT job stays
	// activated before the engine hands it out again (the router's 24 h);
	// the wait itself is kept in the store and outlives the timeout.
	DefaultWaitTimeout = 24 * time.Hour
	// DefaultTriggerSegments is how many segments an unordered trigger
	// delivers from at once on one node.
	DefaultTriggerSegments = 16
	// DefaultRefreshInterval is how often a node reloads the stored
	// triggers, to see changes made through another node.
	DefaultRefreshInterval = 5 * time.Second
)

// DefaultBuiltinHosts are the subscriber hosts that stand for the Zeebe
// CloudEvents router (the first label of the host, so any namespace, domain
// and port): a trigger sending there is served by the engine itself.
var DefaultBuiltinHosts = []string{"zeebe-cloud-events-router"}

type options struct {
	logger          *slog.Logger
	maxBody         int64
	messageTTL      time.Duration
	deliveryTimeout time.Duration
	client          *http.Client
	nodeID          string
	jobWorker       bool
	jobWorkers      int
	jobTimeout      time.Duration
	waitTimeout     time.Duration
	builtinHosts    []string
	segments        int
	refresh         time.Duration
	statePartition  int
	pushBuffer      int
	pushKeepAlive   time.Duration
	allowedOrigins  []string
	maxSubscribers  int
	fallback        http.Handler
	claimInterval   time.Duration
	jobPollInterval time.Duration
	now             func() time.Time
	otherNodes      func(context.Context) (bool, error)
}

// Opt configures a Broker.
type Opt func(*options)

// WithLogger sets where the broker reports what it cannot return (slog.Default()).
func WithLogger(l *slog.Logger) Opt { return func(o *options) { o.logger = l } }

// minMaxBody is the smallest body limit: a 64 KB event (the spec's size
// every intermediary must forward, attributes and data) in structured
// mode with its data in base64.
const minMaxBody = 96 << 10

// WithMaxBodyBytes bounds an ingress request's body (DefaultMaxBodyBytes);
// a larger one is answered 413. It is at least minMaxBody.
func WithMaxBodyBytes(n int64) Opt { return func(o *options) { o.maxBody = n } }

// WithMessageTTL sets how long an event with a correlation key waits, as a
// message, for an instance to correlate to (DefaultMessageTTL; 0: only
// instances already waiting).
func WithMessageTTL(d time.Duration) Opt { return func(o *options) { o.messageTTL = d } }

// WithDeliveryTimeout bounds each delivery attempt of the triggers that
// set no delivery.timeout (DefaultDeliveryTimeout).
func WithDeliveryTimeout(d time.Duration) Opt { return func(o *options) { o.deliveryTimeout = d } }

// WithHTTPClient sets the client deliveries use. Its redirect policy is
// replaced: a 3xx is an answer (a failed delivery), not a hop.
func WithHTTPClient(c *http.Client) Opt { return func(o *options) { o.client = c } }

// WithNodeID names this node in the claims of trigger processors. A node
// restarted under the same id takes its segments back at once; nodes
// sharing a store need distinct ids (default: host, process and a random
// suffix).
func WithNodeID(id string) Opt { return func(o *options) { o.nodeID = id } }

// WithJobTimeout sets how long a "cloudevents" job is locked while the
// in-process worker emits it (DefaultJobTimeout). An emission still
// running when four fifths of it have passed fails the job, which then
// counts a retry. Keep it below the engine's duplicate window, so that a
// job emitted again after a crash is taken for the same event.
func WithJobTimeout(d time.Duration) Opt { return func(o *options) { o.jobTimeout = d } }

// WithJobWorker turns the in-process worker for jobs of type "cloudevents"
// on or off (on by default), and sets how many jobs it handles at once.
func WithJobWorker(on bool, concurrency int) Opt {
	return func(o *options) { o.jobWorker, o.jobWorkers = on, concurrency }
}

// WithWaitTimeout sets how long a WAIT_FOR_CLOUD_EVENT job stays activated
// between re-arms (DefaultWaitTimeout).
func WithWaitTimeout(d time.Duration) Opt { return func(o *options) { o.waitTimeout = d } }

// WithBuiltinHosts replaces the subscriber hosts served by the engine
// itself (DefaultBuiltinHosts).
func WithBuiltinHosts(hosts ...string) Opt {
	return func(o *options) { o.builtinHosts = append([]string(nil), hosts...) }
}

// WithTriggerSegments sets the segments of a new trigger processor, a power
// of two (DefaultTriggerSegments): how many deliveries of one trigger run at
// once on a node.
func WithTriggerSegments(n int) Opt { return func(o *options) { o.segments = n } }

// WithRefreshInterval sets how often the stored triggers are reloaded
// (DefaultRefreshInterval).
func WithRefreshInterval(d time.Duration) Opt { return func(o *options) { o.refresh = d } }

// WithStatePartition sets the partition whose state keeps triggers, waits
// and processor writes (0). Every node must use the same.
func WithStatePartition(p int) Opt { return func(o *options) { o.statePartition = p } }

// WithPushBuffer sets how many events a live subscriber may fall behind
// before it is disconnected (256), and how often an idle stream sends a
// keep-alive (15 s).
func WithPushBuffer(events int, keepAlive time.Duration) Opt {
	return func(o *options) { o.pushBuffer, o.pushKeepAlive = events, keepAlive }
}

// DefaultMaxSubscribers is how many live subscribers (SSE and WebSocket
// streams) a node takes at once by default.
const DefaultMaxSubscribers = 10000

// WithMaxSubscribers bounds the live subscribers a node takes at once
// (DefaultMaxSubscribers): every event goes through each one's filter, so
// each costs every publication; one more is answered 503 with
// Retry-After.
func WithMaxSubscribers(n int) Opt { return func(o *options) { o.maxSubscribers = n } }

// WithAllowedOrigins lets browser pages on other origins follow events, over
// the WebSocket and over SSE, and send them to the ingress (CORS): host
// patterns as path.Match takes them ("localhost:3000", "*.example.com", "*"
// for any). By default only pages of the same origin may.
func WithAllowedOrigins(patterns ...string) Opt {
	return func(o *options) { o.allowedOrigins = append([]string(nil), patterns...) }
}

// WithFallback sets the handler of the requests the broker's Handler does
// not serve (see Broker.Handler).
func WithFallback(h http.Handler) Opt { return func(o *options) { o.fallback = h } }

// WithClaimInterval sets how often trigger processors look for segments to
// claim (5 s); tests shorten it.
func WithClaimInterval(d time.Duration) Opt { return func(o *options) { o.claimInterval = d } }

// WithOtherNodes tells the broker how to learn whether a live node other
// than this one shares its store. A change of a trigger waits for every
// node's reload (the refresh interval and two claim rounds, 15 s) only
// when one may; without this option it always waits, as a node cannot
// know it is alone.
func WithOtherNodes(others func(context.Context) (bool, error)) Opt {
	return func(o *options) { o.otherNodes = others }
}

// WithClock sets the broker's time source (time.Now): the time of emitted
// events.
func WithClock(now func() time.Time) Opt { return func(o *options) { o.now = now } }

func buildOptions(opts []Opt) (options, error) {
	o := options{
		logger:          slog.Default(),
		maxBody:         DefaultMaxBodyBytes,
		messageTTL:      DefaultMessageTTL,
		deliveryTimeout: DefaultDeliveryTimeout,
		jobWorker:       true,
		jobWorkers:      64,
		jobTimeout:      DefaultJobTimeout,
		waitTimeout:     DefaultWaitTimeout,
		builtinHosts:    DefaultBuiltinHosts,
		segments:        DefaultTriggerSegments,
		refresh:         DefaultRefreshInterval,
		pushBuffer:      256,
		pushKeepAlive:   15 * time.Second,
		maxSubscribers:  DefaultMaxSubscribers,
		claimInterval:   5 * time.Second,
		jobPollInterval: 10 * time.Second,
		now:             time.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case o.maxBody < minMaxBody:
		return o, fmt.Errorf("broker: WithMaxBodyBytes(%d): must be at least %d: every CloudEvents intermediary must take a 64 KB event, which in structured mode, its data in base64, is a body of up to 88 KB", o.maxBody, minMaxBody)
	case o.messageTTL < 0:
		return o, fmt.Errorf("broker: WithMessageTTL(%v): must not be negative", o.messageTTL)
	case o.deliveryTimeout <= 0:
		return o, fmt.Errorf("broker: WithDeliveryTimeout(%v): must be positive", o.deliveryTimeout)
	case o.jobTimeout < time.Second:
		return o, fmt.Errorf("broker: WithJobTimeout(%v): need at least a second", o.jobTimeout)
	case o.jobWorkers < 1:
		return o, fmt.Errorf("broker: WithJobWorker concurrency %d: must be at least 1", o.jobWorkers)
	case o.waitTimeout < time.Second:
		return o, fmt.Errorf("broker: WithWaitTimeout(%v): must be at least 1s", o.waitTimeout)
	case o.segments < 1 || o.segments > 1<<10 || o.segments&(o.segments-1) != 0:
		return o, fmt.Errorf("broker: WithTriggerSegments(%d): must be a power of two from 1 to 1024", o.segments)
	case o.refresh <= 0 || o.claimInterval <= 0:
		return o, fmt.Errorf("broker: refresh interval %v and claim interval %v must be positive", o.refresh, o.claimInterval)
	case o.maxSubscribers < 1:
		return o, fmt.Errorf("broker: WithMaxSubscribers(%d): need at least one", o.maxSubscribers)
	case o.pushBuffer < 1 || o.pushKeepAlive <= 0:
		return o, fmt.Errorf("broker: WithPushBuffer(%d, %v): need at least one event and a positive keep-alive", o.pushBuffer, o.pushKeepAlive)
	case o.statePartition < 0:
		return o, fmt.Errorf("broker: WithStatePartition(%d): must not be negative", o.statePartition)
	case o.logger == nil || o.now == nil:
		return o, fmt.Errorf("broker: logger and clock must not be nil")
	}
	if o.nodeID == "" {
		host, err := os.Hostname()
		if err != nil {
			host = "node"
		}
		suffix := make([]byte, 4)
		_, _ = rand.Read(suffix)
		o.nodeID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(suffix))
	}
	if o.client == nil {
		o.client = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	// Copy, so that the caller's client keeps its own redirect policy.
	c := *o.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	o.client = &c
	return o, nil
}

package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"eddy/broker"
	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/frontend"
	"eddy/examples/tickets/internal/node"
	"eddy/examples/tickets/internal/payments"
	"eddy/examples/tickets/internal/queue"
	"eddy/examples/tickets/internal/tickets"
	"eddy/record"
)

//go:embed models/*.bpmn
var models embed.FS

//go:embed triggers/*.yaml
var triggerFiles embed.FS

// triggerBase is the address the trigger files name; it is replaced by
// the address the example really listens on.
const triggerBase = "http://127.0.0.1:8090"

// modelVersions are the seed models this example deploys.
var modelVersions = []string{"v1", "v2", "v3", "v4"}

// config is what the example runs with.
type config struct {
	// Addr is where everything is served (host:port; port 0 picks one).
	Addr string
	// Dir keeps Eddy's data; "" uses a temporary directory.
	Dir string
	// Model is the model version to deploy (v1 to v4).
	Model string
	// ModelXML replaces the embedded model (the tests shorten timers).
	ModelXML []byte
	// Stock is how many tickets are on sale.
	Stock int
	// QueueRate is how many customers leave the queue per second (0: no
	// limit).
	QueueRate float64
	// PaymentDelay is how long the payments service takes to authorize.
	PaymentDelay time.Duration
	// Hold is how long the tickets service holds an unpaid reservation.
	Hold       time.Duration
	Partitions int
	Logger     *slog.Logger
	// Broker options beyond the example's own.
	Broker []broker.Opt
}

// app is the running example: an embedded Eddy, the three services and
// the front end, all served on one port.
type app struct {
	cfg      config
	URL      string
	node     *node.Node
	queue    *queue.Service
	tickets  *tickets.Service
	payments *payments.Service
	front    *frontend.Server
	runs     *events.Publisher // notes each run on the log (TicketsExample.Started)
	// Process is the deployed model's key.
	Process int64

	srv       *http.Server
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// start runs the example: Eddy, the services, the front end, the
// deployment of the chosen model and the services' triggers.
func start(ctx context.Context, cfg config) (_ *app, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	xml := cfg.ModelXML
	if xml == nil {
		if xml, err = models.ReadFile("models/tickets-" + cfg.Model + ".bpmn"); err != nil {
			return nil, fmt.Errorf("unknown model %q: choose one of %s", cfg.Model, strings.Join(modelVersions, ", "))
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, URL: "http://" + ln.Addr().String()}
	defer func() {
		if err != nil {
			// The server first: shut down, it closes the listener and
			// its Serve ends as closed, not failed (a listener closed
			// under it logged 'serving HTTP failed'). The listener then,
			// for a start that failed before serving.
			a.close()
			_ = ln.Close()
		}
	}()
	a.node, err = node.Start(ctx, node.Config{Dir: cfg.Dir, Partitions: cfg.Partitions, Logger: cfg.Logger, Broker: cfg.Broker})
	if err != nil {
		return nil, err
	}

	// The services reach Eddy as any other service would: over HTTP.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, IdleConnTimeout: 90 * time.Second}, Timeout: 30 * time.Second}
	ingress := a.URL + "/v1/events"
	publisher := func(name string) *events.Publisher {
		return events.NewPublisher(ingress, "/tickets-example/"+name, client)
	}
	rules := make(map[string]tickets.Rules, len(modelVersions))
	for _, v := range modelVersions {
		rules[v] = modelRules(v)
	}
	a.queue = queue.New(publisher("queue"), queue.Config{Rate: cfg.QueueRate, Model: cfg.Model, Logger: cfg.Logger})
	a.tickets = tickets.New(publisher("tickets"), tickets.Config{
		Stock: cfg.Stock, Hold: cfg.Hold, Model: cfg.Model, Rules: rules, Logger: cfg.Logger,
	})
	a.payments = payments.New(publisher("payments"), payments.Config{Delay: cfg.PaymentDelay, Logger: cfg.Logger})
	a.runs = publisher("app")
	terms, err := modelTerms(cfg.Model, xml, rules)
	if err != nil {
		return nil, err
	}
	a.front = frontend.New(frontend.Config{Model: cfg.Model, Models: terms, Logger: cfg.Logger})

	// The services serve nothing, their triggers' deliveries included,
	// until they have their state back from the log (restore).
	gate := &restoreGate{done: make(chan struct{})}
	mux := http.NewServeMux()
	eddy := a.node.Handler()
	mux.Handle("/v1/", eddy)
	mux.Handle("/default/default", eddy)
	mux.Handle("/queue/", gate.wrap(http.StripPrefix("/queue", a.queue.Handler())))
	mux.Handle("/tickets/", gate.wrap(http.StripPrefix("/tickets", a.tickets.Handler())))
	mux.Handle("/payments/", gate.wrap(http.StripPrefix("/payments", a.payments.Handler())))
	mux.Handle("/", a.front.Handler())
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("serving HTTP failed", "error", err)
		}
	}()

	// The model is deployed before the queue takes a join: each join
	// says the model deployed, whose instance it starts.
	err = a.restore(ctx)
	if err == nil {
		err = a.deploy(ctx, xml)
	}
	gate.open(err)
	if err != nil {
		return nil, err
	}
	if err := a.applyTriggers(ctx); err != nil {
		return nil, err
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	a.wg.Add(2)
	go func() { defer a.wg.Done(); a.queue.Run(runCtx) }()
	go func() { defer a.wg.Done(); a.tickets.Run(runCtx) }()
	return a, nil
}

// modelRules are what a seed model version leaves to the tickets service.
func modelRules(model string) tickets.Rules {
	r := tickets.Rules{EmitTickets: model != "v3"} // v3 emits Tickets.Emitted from the model
	if model == "v4" {
		r.TransferFrom = 10 // v4's gateway: ten tickets or more go another way
	}
	return r
}

// modelTerms are what the page tells of each model version's purchases:
// the one deployed now as its XML says, the others as this example's.
func modelTerms(deployed string, xml []byte, rules map[string]tickets.Rules) (map[string]frontend.Terms, error) {
	terms := make(map[string]frontend.Terms, len(modelVersions))
	for _, v := range modelVersions {
		doc := xml
		if v != deployed {
			var err error
			if doc, err = models.ReadFile("models/tickets-" + v + ".bpmn"); err != nil {
				return nil, err
			}
		}
		window, err := paymentWindow(doc)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", v, err)
		}
		terms[v] = frontend.Terms{TransferFrom: rules[v].TransferFrom, PaymentWindow: window}
	}
	return terms, nil
}

// deploy deploys the run's model.
func (a *app) deploy(ctx context.Context, xml []byte) error {
	dep, err := a.node.Engine.Deploy(ctx, record.Resource{Name: "tickets-" + a.cfg.Model + ".bpmn", Content: xml})
	if err != nil {
		return fmt.Errorf("deploying model %s: %w", a.cfg.Model, err)
	}
	a.Process = dep.Value.Processes[0].ProcessDefinitionKey
	return nil
}

// applyTriggers creates (or updates) the services' triggers, pointed at
// the address the example listens on.
func (a *app) applyTriggers(ctx context.Context) error {
	files, err := triggerFiles.ReadDir("triggers")
	if err != nil {
		return err
	}
	for _, f := range files {
		doc, err := triggerFiles.ReadFile("triggers/" + f.Name())
		if err != nil {
			return err
		}
		doc = []byte(strings.ReplaceAll(string(doc), triggerBase, a.URL))
		if err := a.node.Broker.Triggers.Apply(ctx, doc); err != nil {
			return fmt.Errorf("triggers/%s: %w", f.Name(), err)
		}
	}
	return nil
}

// close stops everything: the services' loops, the broker's deliveries
// and live pushes, the HTTP server, the payments in flight, and Eddy.
func (a *app) close() { a.closeOnce.Do(a.closeNow) }

func (a *app) closeNow() {
	if a.cancel != nil {
		a.cancel()
	}
	if a.node != nil && a.node.Broker != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := a.node.Broker.Close(ctx); err != nil {
			a.cfg.Logger.Warn("closing the broker", "error", err)
		}
		cancel()
	}
	if a.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = a.srv.Shutdown(ctx)
		cancel()
	}
	if a.payments != nil {
		a.payments.Close()
	}
	a.wg.Wait()
	if a.node != nil {
		if err := a.node.Close(); err != nil {
			a.cfg.Logger.Warn("closing Eddy", "error", err)
		}
	}
}

// restore gives the services their state back: the history of their
// events, read from Eddy's log from its start to its head, as any service
// keeping its state in memory would at start. On a new data directory the
// log is empty and nothing happens.
func (a *app) restore(ctx context.Context) error {
	services := []struct {
		name    string
		restore func(*cloudevents.Event) error
	}{{"queue", a.queue.Restore}, {"tickets", a.tickets.Restore}, {"payments", a.payments.Restore}}
	n := 0
	var (
		earlier   *events.Run // the last TicketsExample.Started's
		earlierAt time.Time
		// unsaid is the last run whose events do not say their model
		// (an earlier example's), and unsaidAt when it started.
		unsaid   *events.Run
		unsaidAt time.Time
	)
	// A client of its own, with no timeout: http.Client's would cut a long
	// history's body short, on every start alike. ctx bounds it.
	_, err := events.Replay(ctx, &http.Client{}, a.URL+"/v1/events/stream", "", func(e *cloudevents.Event) error {
		n++
		if e.Type == events.ExampleStarted && e.Source == a.runs.Source() {
			var run events.Run
			at := eventTime(e)
			if events.DecodeData(e, &run) != nil {
				return nil
			}
			if earlier == nil || earlierAt.Before(at) {
				earlier, earlierAt = &run, at
			}
			if !run.SaysModels && (unsaid == nil || unsaidAt.Before(at)) {
				unsaid, unsaidAt = &run, at
			}
			return nil
		}
		for _, s := range services {
			if err := s.restore(e); err != nil {
				// One event a service cannot read loses only its own
				// part of the history: say so, and go on.
				a.cfg.Logger.Warn("tickets: an event of the log could not be restored", "service", s.name, "type", e.Type, "id", e.ID, "source", e.Source, "error", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("restoring the services' state from the log: %w", err)
	}
	if unsaid != nil {
		// Its customers buy under its model, as their instances run it.
		a.queue.SetUnsaidModel(unsaid.Model)
		a.tickets.SetUnsaidModel(unsaid.Model)
	}
	a.queue.Restored()
	if err := a.tickets.Restored(); err != nil {
		return fmt.Errorf("the tickets service: %w", err)
	}
	a.payments.Restored()
	a.tellChange(earlier)
	run := events.Out{Type: events.ExampleStarted, ID: "started-" + time.Now().UTC().Format(time.RFC3339Nano), Data: events.Run{Model: a.cfg.Model, Stock: a.cfg.Stock, SaysModels: true}}
	if err := a.runs.Emit(ctx, run); err != nil {
		a.cfg.Logger.Warn("tickets: this run could not be noted on the log; the next run will not know its model", "error", err)
	}
	if n > 0 {
		st, qs := a.tickets.Stock(), a.queue.Stats()
		a.cfg.Logger.Info("tickets: the services took up an earlier run's state from the log", "events", n,
			"sold", st.Sold, "held", st.Held, "available", st.Available, "waiting", qs.Waiting, "exited", qs.Exited)
	}
	return nil
}

// eventTime is e's time attribute (zero when it has none).
func eventTime(e *cloudevents.Event) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, e.Time)
	return t
}

// tellChange says when the earlier run on the same data deployed another
// model: the customers who joined before go on under that model's
// instances, and the services follow it for their purchases (who emits
// the tickets, which orders are paid by transfer), while new customers
// run under this one.
func (a *app) tellChange(was *events.Run) {
	if was == nil || was.Model == a.cfg.Model {
		return
	}
	a.cfg.Logger.Info("tickets: the earlier run on this data deployed another model: the customers who joined before buy under it, new ones under this one",
		"earlier", was.Model, "now", a.cfg.Model, "data", a.cfg.Dir)
}

// restoreGate holds the services' requests until their restore is done.
// A request that comes meanwhile waits (a trigger's delivery would
// otherwise spend its retries on 503s during a long restore); once the
// restore failed, every request is answered 503.
type restoreGate struct {
	done chan struct{}
	err  error // set before done is closed
}

func (g *restoreGate) open(err error) {
	g.err = err
	close(g.done)
}

func (g *restoreGate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-g.done:
		case <-r.Context().Done():
			return
		}
		if g.err != nil {
			http.Error(w, "the service could not take its state back from Eddy's log: "+g.err.Error(), http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

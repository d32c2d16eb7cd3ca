package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"eddy/engine"
	"eddy/record"
	"eddy/storage"
)

// ownersTTL is how long a lookup of the partitions' owners is reused.
// Ownership changes are rare (a node joins or dies); an answer from a node
// that no longer owns a partition drops the cache at once.
const ownersTTL = time.Second

// Peers forwards requests for partitions this node does not own to their
// owners, found through the store's partition claims. It implements
// engine.Peers.
type Peers struct {
	store  *storage.Store
	client *http.Client
	secret string

	// onUnowned is called when a request finds a partition without an
	// owner (OnUnowned).
	onUnowned atomic.Pointer[func()]
	wait      atomic.Int64 // SetOwnerWait, nanoseconds

	mu      sync.Mutex
	owners  []string // by partition: base URL, "" when unknown
	fetched time.Time
}

// SetOwnerWait sets how long a request waits for a partition changing
// hands (DefaultOwnerWait): a node's claim round and more.
func (ps *Peers) SetOwnerWait(d time.Duration) { ps.wait.Store(int64(d)) }

func (ps *Peers) ownerWait() time.Duration {
	if d := time.Duration(ps.wait.Load()); d > 0 {
		return d
	}
	return DefaultOwnerWait
}

// OnUnowned sets f to be called, from the request's goroutine, whenever a
// request finds a partition without an owner: a node's claims loop can then
// look for it at once rather than at its next round. f must not block.
func (ps *Peers) OnUnowned(f func()) { ps.onUnowned.Store(&f) }

// NewPeers returns the peers of a node on store. client may be nil
// (http.DefaultClient); secret is the cluster secret, if any.
func NewPeers(store *storage.Store, client *http.Client, secret string) *Peers {
	if client == nil {
		client = peerClient()
	}
	return &Peers{store: store, client: client, secret: secret}
}

var _ engine.Peers = (*Peers)(nil)

// Send implements engine.Peers.
func (ps *Peers) Send(ctx context.Context, p int, cmd record.Record) (engine.Response, error) {
	body, err := json.Marshal(cmd)
	if err != nil {
		return engine.Response{}, err
	}
	var ans commandAnswer
	err = ps.call(ctx, p, http.MethodPost, strings.Replace(pathCommands, "{partition}", strconv.Itoa(p), 1), body, &ans)
	return ans.Response, err
}

// InstanceState implements engine.Peers.
func (ps *Peers) InstanceState(ctx context.Context, p int, key int64) (engine.InstanceState, error) {
	var st engine.InstanceState
	err := ps.call(ctx, p, http.MethodGet, strings.Replace(pathInstance, "{key}", strconv.FormatInt(key, 10), 1), nil, &st)
	return st, err
}

// Incidents implements engine.Peers.
func (ps *Peers) Incidents(ctx context.Context, p int, q engine.IncidentQuery) ([]engine.Incident, error) {
	path := strings.Replace(pathIncidents, "{partition}", strconv.Itoa(p), 1) +
		"?instance=" + strconv.FormatInt(q.ProcessInstanceKey, 10) + "&after=" + strconv.FormatInt(q.After, 10) + "&limit=" + strconv.Itoa(q.Limit)
	var in []engine.Incident
	err := ps.call(ctx, p, http.MethodGet, path, nil, &in)
	return in, err
}

// AwaitDefinitions implements engine.Peers: the owner waits on its side.
func (ps *Peers) AwaitDefinitions(ctx context.Context, p int, keys []int64, wait time.Duration) (bool, error) {
	list := make([]string, len(keys))
	for i, k := range keys {
		list[i] = strconv.FormatInt(k, 10)
	}
	path := strings.Replace(pathDefinitions, "{partition}", strconv.Itoa(p), 1) +
		"?keys=" + strings.Join(list, ",") + "&wait=" + strconv.FormatInt(wait.Milliseconds(), 10)
	var ans definitionsAnswer
	err := ps.call(ctx, p, http.MethodGet, path, nil, &ans)
	return ans.Held, err
}

// peerDialTimeout bounds connecting to a peer. A node on the cluster's
// network answers within milliseconds; one whose host is down answers
// nothing, and a request must not wait the 30 s of Go's default for it
// before it looks for the partition's next owner.
const peerDialTimeout = 3 * time.Second

// peerClient is the client a node forwards requests with.
func peerClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: peerDialTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.MaxIdleConnsPerHost = 64 // forwards to one owner go side by side
	return &http.Client{Transport: t}
}

// DefaultOwnerWait bounds how long a request waits for a partition that
// is changing hands (SetOwnerWait): released by one node, not yet taken or
// loaded by the next. A handover takes a claim round of the new owner and
// its engine's start; a request that comes meanwhile is answered late
// rather than refused.
const DefaultOwnerWait = 5 * time.Second

// handOverRetry spaces the lookups of a request waiting for an owner.
const handOverRetry = 100 * time.Millisecond

// call sends one request to partition p's owner and decodes the answer
// into out, waiting up to ownerWait while the partition has no owner or
// the one named has not taken it up yet.
func (ps *Peers) call(ctx context.Context, p int, method, path string, body []byte, out any) error {
	var deadline time.Time
	for {
		err := ps.callOnce(ctx, p, method, path, body, out)
		var changing changingHands
		if !errors.As(err, &changing) || engine.OwnerWaitSkipped(ctx) {
			return err
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(ps.ownerWait())
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(handOverRetry):
		}
		// Requests waiting side by side share a lookup per retry period,
		// rather than each read the claims again.
		ps.forgetOlderThan(handOverRetry)
	}
}

// callOnce is one attempt of call.
func (ps *Peers) callOnce(ctx context.Context, p int, method, path string, body []byte, out any) error {
	base, err := ps.owner(ctx, p)
	if err != nil {
		if ctx.Err() != nil {
			return notSent(p, ctx)
		}
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ps.secret != "" {
		req.Header.Set("Authorization", "Bearer "+ps.secret)
	}
	// Whether the request went out decides what a failure means: one never
	// sent can be sent again; one sent may have taken effect.
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) },
	}))
	resp, err := ps.client.Do(req)
	if err != nil {
		ps.forget()
		if wrote.Load() && method == http.MethodPost {
			return fmt.Errorf("%w: partition %d: the answer of its owner at %s was lost: %w", storage.ErrOutcomeUnknown, p, base, err)
		}
		if ctx.Err() != nil {
			return notSent(p, ctx)
		}
		// Never sent: the owner may be stopping (its claims go as it
		// goes) or dead (they lapse), so the request waits for the next.
		return changingHands{fmt.Errorf("%w: partition %d: its owner at %s cannot be reached: %v", engine.ErrNoPartition, p, base, err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("cluster: reading the answer of %s: %w", base, err)
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("cluster: the answer of %s does not decode: %w", base, err)
		}
		return nil
	}
	var f failure
	if err := json.Unmarshal(data, &f); err != nil || f.Message == "" {
		if resp.StatusCode == http.StatusNotFound {
			// Not this package's answer: a node of an older version
			// without the endpoint.
			endpoint, _, _ := strings.Cut(path, "?")
			return fmt.Errorf("cluster: %s does not serve %s: %w", base, endpoint, errors.ErrUnsupported)
		}
		return fmt.Errorf("cluster: %s answered %s: %.200s", base, resp.Status, data)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		// This node's setting, not the request: no partition there can
		// be reached from here until the secrets agree.
		return fmt.Errorf("%w: partition %d at %s refused this node's request: %s", engine.ErrNoPartition, p, base, f.Message)
	case f.Rejection != record.NoRejection:
		return &engine.Rejection{Type: f.Rejection, Reason: f.Message}
	case f.NotOwner:
		ps.forget()
		return changingHands{fmt.Errorf("%w: partition %d at %s: %s", engine.ErrNoPartition, p, base, f.Message)}
	case f.Unknown:
		return fmt.Errorf("%w: partition %d at %s: %s", storage.ErrOutcomeUnknown, p, base, f.Message)
	}
	return fmt.Errorf("cluster: partition %d at %s: %s", p, base, f.Message)
}

// owner returns the base URL of partition p's owner.
func (ps *Peers) owner(ctx context.Context, p int) (string, error) {
	ps.mu.Lock()
	owners, fresh := ps.owners, time.Since(ps.fetched) <= ownersTTL
	ps.mu.Unlock()
	if owners == nil || !fresh {
		// Looked up outside the lock: forwards to known owners go on
		// meanwhile.
		claims, err := ps.store.Ownership().PartitionClaims(ctx)
		if err != nil {
			return "", fmt.Errorf("cluster: looking up partition owners: %w", err)
		}
		owners = make([]string, ps.store.Partitions())
		for _, c := range claims {
			if c.Partition >= 0 && c.Partition < len(owners) {
				owners[c.Partition] = ownerURL(c.Owner)
			}
		}
		ps.mu.Lock()
		ps.owners, ps.fetched = owners, time.Now()
		ps.mu.Unlock()
	}
	if p < 0 || p >= len(owners) {
		return "", fmt.Errorf("%w: partition %d has no owner that other nodes can reach", engine.ErrNoPartition, p)
	}
	if owners[p] == "" {
		if f := ps.onUnowned.Load(); f != nil {
			(*f)()
		}
		return "", changingHands{fmt.Errorf("%w: partition %d has no owner that other nodes can reach", engine.ErrNoPartition, p)}
	}
	return owners[p], nil
}

// notSent is a request whose context ended before it went out: it reached
// no partition (ErrNoPartition), so a node whose engine switch cut it may
// run it again (the gateway does), and it is the context's error too.
func notSent(p int, ctx context.Context) error {
	return fmt.Errorf("%w: partition %d: the request ended before it was sent: %w", engine.ErrNoPartition, p, ctx.Err())
}

// changingHands is an ErrNoPartition that a wait may end: the partition
// has no owner, or the node named as its owner does not run it.
type changingHands struct{ err error }

func (e changingHands) Error() string { return e.err.Error() }
func (e changingHands) Unwrap() error { return e.err }

func (ps *Peers) forget() {
	ps.mu.Lock()
	ps.owners = nil
	ps.mu.Unlock()
}

// forgetOlderThan forgets the owners if they were looked up more than age
// ago.
func (ps *Peers) forgetOlderThan(age time.Duration) {
	ps.mu.Lock()
	if time.Since(ps.fetched) > age {
		ps.owners = nil
	}
	ps.mu.Unlock()
}

// probeTimeout bounds a probe: a live node answers a ping at once.
const probeTimeout = time.Second

// Probe reports whether the node named owner (a partition claim's owner)
// answers: a ping to the address its name carries, bounded by
// probeTimeout. A node that was killed refuses at once; one whose host is
// gone does not answer in time.
func (ps *Peers) Probe(ctx context.Context, owner string) bool {
	base := ownerURL(owner)
	if base == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+pathPing, nil)
	if err != nil {
		return false
	}
	if ps.secret != "" {
		req.Header.Set("Authorization", "Bearer "+ps.secret)
	}
	resp, err := ps.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

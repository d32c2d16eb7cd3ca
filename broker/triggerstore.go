package broker

import (
	"context"
	"errors"

	"eddy/storage"
)

// Triggers are kept in the state of the broker's state partition, one row
// per trigger under "broker/trigger/<namespace>/<name>", holding the
// trigger as a JSON document in Knative's shape. The state is the store's
// transactional key-value space: a row is durable once the PUT is
// answered, survives restarts and, on PostgreSQL, is seen by every node
// (each reloads the rows every refresh interval). The token store would
// have served too, but its rows are claims and tokens of processors: a
// trigger is neither, and keeping it apart leaves processor tooling
// (Inspect, resets) showing processors only.
var triggerPrefix = []byte("broker/trigger/")

// triggerKey is the row of a trigger. Namespaces and names are DNS labels
// and subdomains: neither holds "/".
func triggerKey(namespace, name string) []byte {
	return append(append(append(append([]byte(nil), triggerPrefix...), namespace...), '/'), name...)
}

// storedTriggers reads every stored trigger document, by "namespace/name".
func (r *Router) storedTriggers(ctx context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := r.b.state.scan(ctx, triggerPrefix, func(key, value []byte) error {
		out[string(key[len(triggerPrefix):])] = append([]byte(nil), value...)
		return nil
	})
	return out, err
}

// storedTrigger reads one trigger's document; ok is false when there is none.
func (r *Router) storedTrigger(ctx context.Context, namespace, name string) (doc []byte, ok bool, err error) {
	doc, err = r.b.state.get(ctx, triggerKey(namespace, name))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, false, nil
	}
	return doc, err == nil, err
}

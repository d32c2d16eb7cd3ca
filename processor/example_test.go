package processor_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"eddy/processor"
	"eddy/storage"
)

// A projection that counts orders per customer in Eddy's own state, exactly
// once: its writes commit with the processor's token.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "eddy-example-")
	defer os.RemoveAll(dir)
	store, err := storage.Open(ctx, "pebble", dir, storage.WithPartitions(1))
	if err != nil {
		panic(err)
	}
	defer store.Close()
	// Log entries are "customer:order" here; the engine's decoder would
	// read its own record format.
	decode := func(_ int, e storage.Entry) (processor.Event, error) {
		customer, _, _ := strings.Cut(string(e.Data), ":")
		return processor.Event{Key: customer, Data: e.Data}, nil
	}
	for _, r := range []string{"ann:1", "bob:2", "ann:3"} {
		store.Append(ctx, 0, 0, []byte(r))
	}
	done := make(chan struct{})
	count := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
		key := []byte("orders/" + d.Key)
		n := 0
		if v, err := d.Tx.Get(ctx, key); err == nil {
			fmt.Sscan(string(v), &n)
		}
		d.Tx.Put(key, fmt.Append(nil, n+1))
		if d.Position.Offset == 3 {
			close(done)
		}
		return nil
	})
	p, err := processor.New("orders-per-customer", store, processor.NewLogSource(store, processor.WithDecoder(decode)), count,
		processor.WithMode(processor.Tracking))
	if err != nil {
		panic(err)
	}
	if err := p.Start(ctx); err != nil {
		panic(err)
	}
	<-done
	p.Stop(ctx) // commits the last batch
	for _, c := range []string{"ann", "bob"} {
		v, _ := store.Get(ctx, 0, []byte("orders/"+c))
		fmt.Printf("%s: %s\n", c, v)
	}
	// Output:
	// ann: 2
	// bob: 1
}

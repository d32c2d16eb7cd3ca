package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"eddy/broker"
	"eddy/storage"
)

// clusterSecretEnv sets --cluster-secret without showing it in the process
// list.
const clusterSecretEnv = "EDDY_CLUSTER_SECRET"

// defaultAdvertise is the URL other nodes reach this node's HTTP listener
// at: its host when --http names one, else this machine's name.
func defaultAdvertise(ln net.Listener) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "127.0.0.1"
	}
	return "http://" + listenerHostPort(ln, host)
}

// startBroker starts the CloudEvents broker over the switch's engines, with
// REST as the fallback of its routes, and applies the trigger files.
func startBroker(ctx context.Context, engines *engineSwitch, store *storage.Store, node string, cfg devConfig, triggers []triggerFile, log *slog.Logger) (*broker.Broker, error) {
	b, err := broker.New(switchedEngine{engines}, store, broker.WithLogger(log), broker.WithNodeID(node), broker.WithFallback(engines),
		broker.WithJobWorker(cfg.cloudEventJobs, 64), broker.WithMessageTTL(cfg.messageTTL), broker.WithDeliveryTimeout(cfg.deliveryTimeout), broker.WithTriggerSegments(cfg.triggerSegments),
		broker.WithAllowedOrigins(cfg.allowOrigins...), broker.WithOtherNodes(func(ctx context.Context) (bool, error) {
			return otherLiveNodes(ctx, store, node, cfg.claimTimeout)
		}))
	if err != nil {
		return nil, fmt.Errorf("starting the broker: %w", err)
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := b.Start(startCtx); err != nil {
		return nil, fmt.Errorf("starting the broker: %w", err)
	}
	for _, f := range triggers {
		if err := b.Triggers.Apply(startCtx, f.data); err != nil {
			_ = b.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("--triggers %s: %w", f.name, err)
		}
		log.Info("triggers applied", "file", f.name)
	}
	return b, nil
}

package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"eddy/api/zeebe"
)

// grpcConfig is how `eddy dev` serves the Zeebe gateway protocol.
type grpcConfig struct {
	addr    string
	tlsCert string
	tlsKey  string
	tokens  []string
}

// tokensEnv names the environment variable that holds accepted bearer
// tokens (comma-separated): a token given there does not show in the
// process list as a flag's would.
const tokensEnv = "EDDY_GRPC_TOKENS"

// options checks the configuration and turns it into the server's
// options; tokens counts the accepted bearer tokens.
func (c grpcConfig) options() (opts []zeebe.Option, tokens int, err error) {
	if c.tlsCert != "" || c.tlsKey != "" {
		cfg, err := zeebe.LoadTLS(c.tlsCert, c.tlsKey)
		if err != nil {
			if c.tlsCert == "" || c.tlsKey == "" {
				return nil, 0, usageError{fmt.Errorf("--grpc-tls-cert and --grpc-tls-key go together: %w", err)}
			}
			return nil, 0, err
		}
		opts = append(opts, zeebe.WithTLS(cfg))
	}
	var accepted []string
	for _, t := range c.tokens {
		if strings.TrimSpace(t) == "" {
			return nil, 0, usageError{fmt.Errorf("invalid --grpc-token: a bearer token cannot be empty")}
		}
		accepted = append(accepted, strings.TrimSpace(t))
	}
	for _, t := range strings.Split(os.Getenv(tokensEnv), ",") {
		if t = strings.TrimSpace(t); t != "" {
			accepted = append(accepted, t)
		}
	}
	if len(accepted) > 0 {
		opts = append(opts, zeebe.WithBearerTokens(accepted...))
	}
	return opts, len(accepted), nil
}

// listenGRPC binds the gRPC gateway's address; "" serves no gRPC.
func listenGRPC(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot serve gRPC on --grpc %s: %w", addr, err)
	}
	return ln, nil
}

// serveGRPC serves the Zeebe gateway on ln until stop is called, and
// returns the address clients can use.
func serveGRPC(ln net.Listener, engines zeebe.Engines, node string, opts []zeebe.Option, log *slog.Logger) (reachable string, stop func()) {
	reachable = reachableAddress(ln)
	srv := zeebe.New(engines, append(opts, zeebe.WithLogger(log), zeebe.WithNode(node, reachable))...)
	g := srv.NewGRPC()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := g.Serve(ln); err != nil {
			log.Error("gRPC server stopped", "error", err)
		}
	}()
	stop = func() {
		stopped := make(chan struct{})
		go func() { g.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			g.Stop()
		}
		<-done
	}
	return reachable, stop
}

// reachableAddress is ln's address as a client dials it: an unspecified
// host (":26500") is reached on the loopback address.
func reachableAddress(ln net.Listener) string { return listenerHostPort(ln, "127.0.0.1") }

// listenerHostPort is ln's host:port, with unspecified standing for an
// unspecified host (":8080").
func listenerHostPort(ln net.Listener, unspecified string) string {
	tcp := ln.Addr().(*net.TCPAddr)
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = unspecified
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

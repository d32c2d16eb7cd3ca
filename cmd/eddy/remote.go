package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"eddy/api/rest"
)

// remote is what the commands that talk to a running Eddy share.
type remote struct {
	address string
}

// defaultAddress is where `eddy dev` serves by default; EDDY_ADDRESS
// overrides it.
func defaultAddress() string {
	if a := os.Getenv("EDDY_ADDRESS"); a != "" {
		return a
	}
	return "http://127.0.0.1:8080"
}

func (r *remote) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&r.address, "address", defaultAddress(), "address of a running Eddy's REST API (or set EDDY_ADDRESS)")
}

func (r *remote) client() (*rest.Client, error) {
	if !strings.HasPrefix(r.address, "http://") && !strings.HasPrefix(r.address, "https://") {
		return nil, usageError{fmt.Errorf("invalid --address %q: use an http:// or https:// URL such as http://127.0.0.1:8080", r.address)}
	}
	return rest.NewClient(r.address, nil), nil
}

// readVariables reads a --vars value: a JSON object, or @FILE holding one.
func readVariables(flag, value string) (json.RawMessage, error) {
	if value == "" {
		return nil, nil
	}
	data := []byte(value)
	if path, ok := strings.CutPrefix(value, "@"); ok {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, usageError{fmt.Errorf("invalid %s: %w", flag, err)}
		}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, usageError{fmt.Errorf("invalid %s: want a JSON object such as '{\"orderId\": \"o-1\"}', got %q", flag, shorten(string(data)))}
	}
	return json.RawMessage(bytes.TrimSpace(data)), nil
}

func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// awaitFlags are --wait and --timeout.
type awaitFlags struct {
	wait    bool
	timeout time.Duration
}

func (a *awaitFlags) flags(cmd *cobra.Command, what string) {
	cmd.Flags().BoolVar(&a.wait, "wait", false, "wait until "+what+" ends and print its variables")
	cmd.Flags().DurationVar(&a.timeout, "timeout", 0, "with --wait: how long to wait (default 10s); the process goes on after it")
}

func (a *awaitFlags) request(cmd *cobra.Command) (rest.Await, error) {
	if !a.wait {
		if cmd.Flags().Changed("timeout") {
			return rest.Await{}, usageError{fmt.Errorf("--timeout applies only with --wait")}
		}
		return rest.Await{}, nil
	}
	if a.timeout < 0 {
		return rest.Await{}, usageError{fmt.Errorf("invalid --timeout %v: use a positive duration", a.timeout)}
	}
	return rest.Await{AwaitCompletion: true, RequestTimeout: rest.Millis(a.timeout)}, nil
}

// context bounds a call: the wait it asked for, and some margin.
func (a *awaitFlags) context(parent context.Context) (context.Context, context.CancelFunc) {
	wait := rest.DefaultAwaitTimeout
	if a.timeout > 0 {
		wait = a.timeout
	}
	return context.WithTimeout(parent, wait+30*time.Second)
}

// requestFlags are what run and publish share: the address, --vars,
// --wait and --timeout.
type requestFlags struct {
	remote
	awaitFlags
	vars string
}

func (f *requestFlags) register(cmd *cobra.Command, what string) {
	f.remote.flags(cmd)
	f.awaitFlags.flags(cmd, what)
	cmd.Flags().StringVar(&f.vars, "vars", "", "variables: a JSON object, or @FILE")
}

// prepare checks the flags and returns the client, the variables and the
// wait to ask for.
func (f *requestFlags) prepare(cmd *cobra.Command) (*rest.Client, json.RawMessage, rest.Await, error) {
	c, err := f.client()
	if err != nil {
		return nil, nil, rest.Await{}, err
	}
	variables, err := readVariables("--vars", f.vars)
	if err != nil {
		return nil, nil, rest.Await{}, err
	}
	await, err := f.request(cmd)
	return c, variables, await, err
}

// oneArg refuses anything but one positional argument, named what.
func oneArg(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usageError{fmt.Errorf("%s needs one %s, got %d arguments", cmd.CommandPath(), what, len(args))}
		}
		return nil
	}
}

// printJSON writes v indented.
func printJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"eddy/api/rest"
)

// remote is what the commands that talk to a running Eddy share.
type remote struct {
	address string
	// cmd is the command of --address: whether the flag was given tells
	// where a bad address came from.
	cmd *cobra.Command
}

// addressEnv sets --address's default.
const addressEnv = "EDDY_ADDRESS"

// defaultAddress is where `eddy dev` serves by default; EDDY_ADDRESS
// overrides it.
func defaultAddress() string {
	if a := os.Getenv(addressEnv); a != "" {
		return a
	}
	return "http://127.0.0.1:8080"
}

func (r *remote) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&r.address, "address", defaultAddress(), "address of a running Eddy's REST API (or set "+addressEnv+")")
	r.cmd = cmd
}

// fromEnv says whether the address is EDDY_ADDRESS's: a user who set it
// long ago, in another shell's profile, looks for a bad address on the
// command line in vain unless the error names the variable.
func (r *remote) fromEnv() bool {
	return !r.cmd.Flags().Changed("address") && os.Getenv(addressEnv) != ""
}

func (r *remote) client() (*rest.Client, error) {
	if err := checkAddress(r.address); err != nil {
		if r.fromEnv() {
			return nil, usageError{fmt.Errorf("invalid %s %q in the environment (--address's default): %v", addressEnv, r.address, err)}
		}
		return nil, usageError{fmt.Errorf("invalid --address %q: %v", r.address, err)}
	}
	if r.fromEnv() {
		return rest.NewClient(r.address, &http.Client{Transport: envAddressTransport{http.DefaultTransport}}), nil
	}
	return rest.NewClient(r.address, nil), nil
}

// checkAddress refuses what is no base URL of the REST API, before a
// request would fail on it with a less clear error (or, for a port out of
// range, only once it dials).
func checkAddress(address string) error {
	const want = "use an http:// or https:// URL such as http://127.0.0.1:8080"
	// Before parsing: url.Parse reads host:port as a scheme and an opaque
	// part, or fails on it with an error about path segments.
	if scheme, _, ok := strings.Cut(address, "://"); !ok || !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") {
		return errors.New(want)
	}
	u, err := url.Parse(address)
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // without the address, which the caller quotes
	}
	switch {
	case err != nil:
		return fmt.Errorf("%v; %s", err, want)
	case u.Hostname() == "":
		return fmt.Errorf("it names no host; %s", want)
	case u.RawQuery != "" || u.ForceQuery || strings.Contains(address, "#"):
		// The API's paths are appended to the address. An empty query
		// (a trailing ?) or fragment (#) is one too: url.Parse leaves
		// RawQuery and Fragment empty, and a path after them goes to
		// /base/?/v1/... or is dropped.
		return fmt.Errorf("a query or fragment cannot be followed by the API's paths; %s", want)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %s is not 1 to 65535", p)
		}
	}
	return nil
}

// envAddressTransport adds to an unreachable address's error that it is
// EDDY_ADDRESS's (see fromEnv); not to a request cut short by its context
// (an interrupt, a deadline), whatever the address. The context tells,
// not the error: a dial's own timeout, which is about the address, is
// errors.Is context.DeadlineExceeded too.
type envAddressTransport struct{ http.RoundTripper }

func (t envAddressTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.RoundTripper.RoundTrip(req)
	if err != nil && req.Context().Err() == nil {
		err = fmt.Errorf("%w (the address is %s's; --address overrides it)", err, addressEnv)
	}
	return resp, err
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

// Command eddy is the Eddy binary: one CLI with a subcommand per way of
// running it (eddy dev) and one per request to a running Eddy (eddy deploy,
// eddy run, eddy publish).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"eddy/internal/gctarget"
	_ "eddy/storage/pebble"
	_ "eddy/storage/postgres"
)

// usageError marks bad command lines, which exit with 2 rather than 1.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }

func main() {
	gctarget.Apply()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line and returns the exit code. Errors are one
// line on stderr, never a stack trace.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var u usageError
	// Cobra reports an unknown subcommand with a plain error.
	if errors.As(err, &u) || strings.HasPrefix(err.Error(), "unknown command") {
		// The help of the command that refused the line lists its flags
		// (eddy dev's are not in eddy --help).
		help := "eddy"
		if cmd != nil {
			help = cmd.CommandPath()
		}
		fmt.Fprintf(stderr, "eddy: %v (see '%s --help')\n", err, help)
		return 2
	}
	fmt.Fprintf(stderr, "eddy: %s\n", oneLine(err.Error()))
	return 1
}

// oneLine folds a multi-line message (a server's list of problems in a
// BPMN file) into one line.
func oneLine(msg string) string {
	msg = strings.ReplaceAll(strings.TrimSpace(msg), ":\n", ": ")
	return strings.ReplaceAll(msg, "\n", "; ")
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "eddy",
		Short:         "Eddy runs event-driven processes: BPMN, Zeebe workers, CloudEvents and a replayable log, in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newDevCommand(), newDeployCommand(), newRunCommand(), newPublishCommand(), newVersionCommand())
	return root
}

// noArgs refuses positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}

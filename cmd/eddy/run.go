package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"eddy/api/rest"
)

func newRunCommand() *cobra.Command {
	var (
		f       requestFlags
		version int32
	)
	cmd := &cobra.Command{
		Use:   "run PROCESS_ID",
		Short: "Start a process instance on a running Eddy",
		Long: `Start an instance of the latest version of a deployed process (or of
--version) and print it as JSON; with --wait, wait until it ends and print
its variables too.`,
		Args: oneArg("process id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, variables, await, err := f.prepare(cmd)
			if err != nil {
				return err
			}
			if version < 0 {
				return usageError{fmt.Errorf("invalid --version %d: use 1 or more", version)}
			}
			ctx, cancel := f.context(cmd.Context())
			defer cancel()
			res, err := c.CreateInstance(ctx, rest.CreateInstanceRequest{BpmnProcessID: args[0], Version: version, Variables: variables, Await: await})
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), res)
		},
	}
	f.register(cmd, "the instance")
	cmd.Flags().Int32Var(&version, "version", 0, "the process version (default the latest)")
	return cmd
}

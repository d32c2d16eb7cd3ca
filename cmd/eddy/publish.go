package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"eddy/api/rest"
)

func newPublishCommand() *cobra.Command {
	var (
		f       requestFlags
		key, id string
		ttl     time.Duration
	)
	cmd := &cobra.Command{
		Use:   "publish NAME",
		Short: "Publish a message on a running Eddy",
		Long: `Publish a message with a correlation key and print it as JSON; with
--wait, wait until the process instance it reaches (or starts) ends and
print its variables too.`,
		Args: oneArg("message name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, variables, await, err := f.prepare(cmd)
			if err != nil {
				return err
			}
			if ttl < 0 {
				return usageError{fmt.Errorf("invalid --ttl %v: use zero or more", ttl)}
			}
			ctx, cancel := f.context(cmd.Context())
			defer cancel()
			res, err := c.PublishMessage(ctx, rest.PublishMessageRequest{Name: args[0], CorrelationKey: key, TimeToLive: rest.Millis(ttl),
				MessageID: id, Variables: variables, Await: await})
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), res)
		},
	}
	f.register(cmd, "the process instance the message reaches")
	cmd.Flags().StringVar(&key, "key", "", "the correlation key")
	cmd.Flags().StringVar(&id, "id", "", "a message id, to publish it once while it is buffered")
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "how long the message waits for a subscription (default 0: not buffered)")
	return cmd
}

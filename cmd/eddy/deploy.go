package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"eddy/api/rest"
)

func newDeployCommand() *cobra.Command {
	var r remote
	cmd := &cobra.Command{
		Use:   "deploy FILE...",
		Short: "Deploy BPMN files to a running Eddy",
		Long: `Deploy BPMN files to a running Eddy. Each process gets a new version,
unless its content is the same as its latest version's.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("eddy deploy needs at least one BPMN file")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			files := make([]rest.File, len(args))
			for i, path := range args {
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				files[i] = rest.File{Name: filepath.Base(path), Content: data}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			dep, err := c.Deploy(ctx, files...)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, p := range dep.Processes {
				note := ""
				if p.Duplicate {
					note = " (unchanged)"
				}
				fmt.Fprintf(out, "%s version %d%s from %s, process definition key %s\n", p.BpmnProcessID, p.Version, note, p.ResourceName, p.ProcessDefinitionKey)
			}
			return nil
		},
	}
	r.flags(cmd)
	return cmd
}

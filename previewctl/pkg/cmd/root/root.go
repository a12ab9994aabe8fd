// Package root assembles previewctl's command tree. Each subcommand lives in
// its own package under pkg/cmd and is registered here, in one place.
package root

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmd/demo"
	"preview-environments/previewctl/pkg/cmd/env"
	"preview-environments/previewctl/pkg/cmd/gc"
	"preview-environments/previewctl/pkg/cmd/id"
	"preview-environments/previewctl/pkg/cmd/ls"
	"preview-environments/previewctl/pkg/cmd/render"
	"preview-environments/previewctl/pkg/cmd/sandbox"
	"preview-environments/previewctl/pkg/cmd/wait"
	"preview-environments/previewctl/pkg/cmdutil"
)

// ExitError carries a specific process exit code (2 = invalid input) up to
// main without cobra printing usage for it. It lives in cmdutil so that
// subcommands can return it without an import cycle through root.
type ExitError = cmdutil.ExitError

// New returns the root command with every subcommand attached.
func New() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "previewctl",
		Short:         "Per-pull-request preview environments: render, list, gc, wait, and a local sandbox",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Subcommands register here, one line each.
	cmd.AddCommand(sandbox.New())
	cmd.AddCommand(id.New())
	cmd.AddCommand(render.New())
	cmd.AddCommand(ls.New())
	cmd.AddCommand(gc.New())
	cmd.AddCommand(env.New())
	cmd.AddCommand(wait.New())
	cmd.AddCommand(demo.New())
	cmdutil.UsageErrors(cmd)
	return cmd
}

// Execute runs the command tree and returns the process exit code.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := New()
	cmd.SetArgs(args)
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	err := cmd.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "previewctl: %v\n", err)
	}
	return cmdutil.ExitCode(err)
}

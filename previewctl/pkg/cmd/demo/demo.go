// Package demo is `previewctl demo`: the narrated pull-request lifecycle on
// an in-process sandbox (package pkg/demo does the work).
package demo

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/demo"
	"preview-environments/previewctl/pkg/progress"
	sb "preview-environments/previewctl/pkg/sandbox"
)

// New returns the `demo` command.
func New() *cobra.Command {
	var addr string
	var keep bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole PR lifecycle on a local sandbox and narrate it (exit 0 when every step was observed)",
		Long: `demo starts the sandbox platform in-process on 127.0.0.1:8080 (a free port
if that one is taken), with fresh state in <repository root>/.sandbox/demo,
then: opens a PR that changes the service's message and waits for its URL to
serve "<sha>: <message>"; pushes a second commit and shows the trigger policy
redeploying it; opens a PR that changes infra/ and shows its environment
serving the infra change; closes both and waits for the destructors and for
the URLs to answer 404. A failed step exits 1 with the CI log, the Spacelift
run logs and the last HTTP response. --keep leaves the sandbox running.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if addr != "" {
				if err := sb.CheckLoopback(addr, "--addr"); err != nil {
					return cmdutil.Invalid(err)
				}
			}
			if timeout <= 0 {
				return cmdutil.Invalid(fmt.Errorf("--step-timeout %s: want a positive duration", timeout))
			}
			root, err := cmdutil.RepoRoot()
			if err != nil {
				return err
			}
			rie, err := cmdutil.FindRIE(root)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			return demo.Run(cmd.Context(), demo.Config{
				RepoRoot: root, Addr: addr, RIEPath: rie, Keep: keep,
				Out: out, Terminal: progress.IsTerminal(out), StepTimeout: timeout,
			})
		},
	}
	cmdutil.InvalidFlags(cmd)
	cmd.Flags().StringVar(&addr, "addr", "", "listen address, loopback only (default "+demo.DefaultAddr+", or a free port when it is taken)")
	cmd.Flags().BoolVar(&keep, "keep", false, "leave the sandbox running after the lifecycle (stop it with Ctrl-C)")
	cmd.Flags().DurationVar(&timeout, "step-timeout", 2*time.Minute, "how long each step may wait")
	return cmd
}

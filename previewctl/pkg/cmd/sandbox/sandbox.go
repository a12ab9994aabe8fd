// Package sandbox is `previewctl sandbox`: up (host the whole platform on
// loopback: data plane, GitHub and Spacelift stand-ins, the CI steps),
// status (what a running one serves), pr (drive its pull requests) and env
// (its on-demand environments).
package sandbox

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/progress"
	sb "preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/platform"
)

// New returns the `sandbox` command.
func New() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run the local sandbox (GitHub, Spacelift, S3, Lambda and API Gateway stand-ins on loopback) and drive its PRs",
	}
	cmd.AddCommand(newUp(), newStatus(), newPR(), newEnv(), newGC())
	return cmd
}

func newUp() *cobra.Command {
	var addr, data, bucket string
	var idle, wait, gcEvery time.Duration
	var singleStack bool
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the whole sandbox platform and serve until interrupted (SIGINT/SIGTERM)",
		Long: `up imports the repository's working tree as branch main of the GitHub
stand-in, starts the Spacelift stand-in (manager stack, push and trigger
policies) and the data plane, builds latest.zip, and serves everything on one
loopback address until SIGINT or SIGTERM. Drive it with
` + "`previewctl sandbox pr ...`" + ` and look at it with ` + "`previewctl sandbox status`" + `.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sb.CheckLoopback(addr, "--addr"); err != nil {
				return cmdutil.Invalid(err)
			}
			if wait <= 0 {
				return cmdutil.Invalid(fmt.Errorf("--wait-timeout %s: want a positive duration", wait))
			}
			if gcEvery < 0 || (gcEvery > 0 && gcEvery < time.Minute) {
				return cmdutil.Invalid(fmt.Errorf("--gc-interval %s: want 1m or more, or 0 for no scheduled passes", gcEvery))
			}
			root, err := cmdutil.RepoRoot()
			if err != nil {
				return err
			}
			if data == "" {
				data = filepath.Join(root, ".sandbox")
			}
			rie, err := cmdutil.FindRIE(root)
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			p, err := platform.Open(cmd.Context(), platform.Config{
				Sandbox: sb.Config{
					Addr: addr, DataDir: data, Bucket: bucket, IdleTimeout: idle, RIEPath: rie,
					Progress: stderr, Verbose: progress.IsTerminal(stderr), Log: log,
				},
				RepoRoot: root, WaitTimeout: wait, SingleStack: singleStack, GCInterval: gcEvery, Progress: stderr, Log: log,
			})
			if err != nil {
				return err
			}
			err = p.Serve(cmd.Context())
			if cerr := p.Close(); err == nil {
				err = cerr
			}
			fmt.Fprintln(stderr, "sandbox: stopped")
			return err
		},
	}
	cmdutil.InvalidFlags(cmd)
	cmd.Flags().StringVar(&addr, "addr", sb.DefaultAddr, "listen address (loopback only)")
	cmd.Flags().StringVar(&data, "data", "", "data directory (default <repository root>/.sandbox)")
	cmd.Flags().StringVar(&bucket, "bucket", sb.DefaultBucket, "artifact bucket in the S3 stand-in")
	cmd.Flags().DurationVar(&idle, "idle-timeout", 5*time.Minute, "stop a function's emulator after it has been idle this long")
	cmd.Flags().DurationVar(&wait, "wait-timeout", 2*time.Minute, "how long a preview may take to serve its PR head before it is marked failed")
	cmd.Flags().DurationVar(&gcEvery, "gc-interval", 10*time.Minute, "run a gc pass (closed PRs, expired on-demand environments) this often, as gc.yml's schedule does; 0: never (previewctl sandbox gc still does)")
	cmd.Flags().BoolVar(&singleStack, "single-stack", false, "one-stack environments: the service stack alone, no data stack (the manager's data_stack = false)")
	return cmd
}

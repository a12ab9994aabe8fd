package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	sb "preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/platform"
)

// newGC is `sandbox gc`: one pass of gc.yml's job on a running sandbox.
// Its output is `previewctl gc`'s: the pass's lines on stderr, the deleted
// (or, with --dry-run, the doomed) files on stdout.
func newGC() *cobra.Command {
	var addr, now string
	var dryRun, force, asJSON bool
	var warnWithin time.Duration
	cmd := &cobra.Command{
		Use:   "gc [--dry-run] [--force] [--warn-within 24h]",
		Short: "Run one gc pass on a running sandbox: delete closed PRs' and expired on-demand environments",
		Long: `gc runs, on a running sandbox, what gc.yml runs on a schedule in production:
the environment files on main whose PR is closed (asked of the GitHub
stand-in) or whose on-demand TTL has passed are deleted through the
contents API, one commit each, and their stacks destroyed by their
destructors. The same mass-deletion guard applies: a pass that would delete
more than half of all environments deletes nothing unless --force.
` + "`previewctl sandbox up`" + ` also runs a pass every --gc-interval.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sb.CheckLoopback(addr, "--addr"); err != nil {
				return cmdutil.Invalid(err)
			}
			if warnWithin < 0 {
				return cmdutil.Invalid(fmt.Errorf("invalid warn-within %s: want a positive duration, or 0 for no warnings", warnWithin))
			}
			if _, err := cmdutil.Now(now); err != nil {
				return err
			}
			req := platform.GCRequest{DryRun: dryRun, Force: force, WarnWithin: warnWithin.String(), Now: now}
			var rep platform.GCReport
			raw, err := newClient(addr).do(cmd.Context(), http.MethodPost, "/api/gc", req, &rep)
			if err != nil && (json.Unmarshal(raw, &rep) != nil || rep.Log == nil) {
				return err // no report: the request itself failed or was refused
			}
			if err := cmdutil.Print(cmd.OutOrStdout(), asJSON, json.RawMessage(raw), func(out io.Writer) error {
				for _, l := range rep.Log {
					fmt.Fprintln(cmd.ErrOrStderr(), l)
				}
				files := rep.Deleted
				if dryRun {
					files = rep.WouldDelete
				}
				for _, e := range files {
					if _, err := fmt.Fprintln(out, e.File); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				return err
			}
			if rep.Error != "" {
				return fmt.Errorf("sandbox gc: %s", rep.Error)
			}
			return err
		},
	}
	cmdutil.InvalidFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&addr, "addr", sb.DefaultAddr, "address of the running sandbox (loopback only)")
	f.BoolVar(&dryRun, "dry-run", false, "report what would be deleted, delete nothing")
	f.BoolVar(&force, "force", false, "delete even beyond the mass-deletion guard")
	f.DurationVar(&warnWithin, "warn-within", platform.DefaultGCWarnWithin, "warn about on-demand environments that expire within this long (0: never)")
	f.BoolVar(&asJSON, "json", false, "print the pass's report as JSON")
	f.StringVar(&now, "now", "", "judge expiry as of this RFC 3339 time")
	_ = f.MarkHidden("now")
	return cmd
}

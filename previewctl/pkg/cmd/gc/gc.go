// Package gc is `previewctl gc`: remove environments whose PR is closed or
// whose TTL has passed.
package gc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/envfile"
	gcpkg "preview-environments/previewctl/pkg/gc"
	"preview-environments/previewctl/pkg/managerdir"
	"preview-environments/previewctl/pkg/progress"
	"preview-environments/previewctl/pkg/prstate"
)

type options struct {
	managerDir, service, managerRepo, branch, pathPrefix, apiURL, now string
	local, dryRun, force, noLookup                                    bool
	maxFraction                                                       float64
	maxAttempts                                                       int
	warnWithin                                                        time.Duration
}

// New returns the gc command.
func New() *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Delete environments whose PR is closed or whose TTL has passed (on-demand ones by TTL)",
		Long: `List the environment files in the manager directory, ask GitHub for each
PR's state (GITHUB_TOKEN), and delete the files of closed PRs and of
environments past their expires_at: in the manager repository through the
update-file-action (--manager-repo OWNER/REPO), or on disk with --local.

On-demand environments (previewctl env create) have no PR: they are
deleted once past their expires_at, and each one kept that expires within
--warn-within gets a warning line.

A pass refuses to delete more than --max-fraction of all environments
(unreadable files count towards the total) unless --force: an empty or
broken listing, a failing API or a wrong clock never means "destroy
everything". Progress goes to stderr; the deleted (or, with --dry-run, the
doomed) file names go to stdout.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd, o) },
	}
	cmdutil.InvalidFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.managerDir, "manager-dir", "", "manager directory to list (default: manager/ at the repository root)")
	f.StringVar(&o.service, "service", "", "only this service (default: every service)")
	f.BoolVar(&o.local, "local", false, "delete files in the manager directory instead of through the GitHub API")
	f.StringVar(&o.managerRepo, "manager-repo", "", "OWNER/REPO of the manager repository to delete from")
	f.StringVar(&o.branch, "branch", "", "branch of the manager repository (default: its default branch)")
	f.StringVar(&o.pathPrefix, "manager-path", "manager", "path of the manager directory inside the manager repository")
	f.StringVar(&o.apiURL, "api-url", envOr("GITHUB_API_URL", "https://api.github.com"), "GitHub REST API URL")
	f.BoolVar(&o.noLookup, "no-pr-lookup", false, "do not ask GitHub for PR states; expire by TTL only")
	f.BoolVar(&o.dryRun, "dry-run", false, "report what would be deleted, delete nothing")
	f.BoolVar(&o.force, "force", false, "delete even beyond --max-fraction")
	f.Float64Var(&o.maxFraction, "max-fraction", gcpkg.DefaultMaxFraction, "largest share of all environments one pass may delete")
	f.IntVar(&o.maxAttempts, "max-attempts", 0, "attempts per deletion on conflicts (0: the update-file-action default)")
	f.DurationVar(&o.warnWithin, "warn-within", 24*time.Hour, "warn about on-demand environments that expire within this long (0: never)")
	f.StringVar(&o.now, "now", "", "judge expiry as of this RFC 3339 time")
	_ = f.MarkHidden("now")
	return cmd
}

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func run(cmd *cobra.Command, o *options) error {
	if o.maxFraction <= 0 || o.maxFraction > 1 {
		return cmdutil.Invalid(fmt.Errorf("invalid max-fraction %v: must be in (0, 1]", o.maxFraction))
	}
	now, err := cmdutil.Now(o.now)
	if err != nil {
		return err
	}
	if o.local && o.managerRepo != "" {
		return cmdutil.Invalid(fmt.Errorf("--local and --manager-repo %q exclude each other: delete on disk or in the manager repository", o.managerRepo))
	}
	if !o.local && o.managerRepo == "" && !o.dryRun {
		return cmdutil.Invalid(errors.New("invalid manager-repo \"\": pass --manager-repo OWNER/REPO, or --local"))
	}
	// Ignoring these without --manager-repo would let a run delete on disk
	// when its caller meant a branch of the manager repository.
	for _, name := range []string{"branch", "manager-path", "max-attempts"} {
		if fl := cmd.Flags().Lookup(name); fl.Changed && o.managerRepo == "" {
			return cmdutil.Invalid(fmt.Errorf("--%s %q applies only with --manager-repo", name, fl.Value.String()))
		}
	}
	if o.warnWithin < 0 {
		return cmdutil.Invalid(fmt.Errorf("invalid warn-within %s: want a positive duration, or 0 for no warnings", o.warnWithin))
	}
	if o.maxAttempts < 0 || o.maxAttempts > 100 {
		return cmdutil.Invalid(fmt.Errorf("invalid max-attempts %d: want 1 to 100, or 0 for the default", o.maxAttempts))
	}
	var owner, repo string
	if o.managerRepo != "" {
		var ok bool
		owner, repo, ok = strings.Cut(o.managerRepo, "/")
		if !ok {
			return cmdutil.Invalid(fmt.Errorf("invalid manager-repo %q: want OWNER/REPO", o.managerRepo))
		}
		if err := cmp.Or(envfile.ValidateOwner(owner), envfile.ValidateRepo(repo)); err != nil {
			return cmdutil.Invalid(fmt.Errorf("invalid manager-repo %q: %w", o.managerRepo, err))
		}
	}
	mdir, _, err := managerdir.Resolve(o.managerDir, ".")
	if err != nil {
		return err
	}
	token := os.Getenv("GITHUB_TOKEN")
	client, err := prstate.NewClient(o.apiURL, token)
	if err != nil {
		return cmdutil.Invalid(err)
	}
	opts := gcpkg.Options{Now: now, DryRun: o.dryRun, Force: o.force, MaxFraction: o.maxFraction, WarnWithin: o.warnWithin, Progress: cmd.ErrOrStderr()}
	if !o.noLookup {
		opts.Lookup = prstate.GitHub{Client: client}
	}
	if o.local {
		opts.Deleter = gcpkg.LocalDeleter{ManagerDir: mdir}
	} else if o.managerRepo != "" {
		opts.Deleter = gcpkg.RepoDeleter{Client: client, Owner: owner, Repo: repo, Branch: o.branch, PathPrefix: o.pathPrefix, MaxAttempts: o.maxAttempts}
	}

	envs, broken := envfile.ReadManager(mdir, o.service)
	stderr := cmd.ErrOrStderr()
	status := progress.New(stderr)
	lookups := "by TTL only"
	if opts.Lookup != nil {
		lookups = "PR states from " + o.apiURL
	}
	if opts.Lookup != nil && progress.IsTerminal(stderr) {
		// Lookups run one after another before any decision is printed:
		// on a terminal, show which one is under way.
		opts.Lookup = shownLookup{Lookup: opts.Lookup, status: status}
	}
	fmt.Fprintf(stderr, "gc: %d environment files in %s (%d unreadable), %s\n", len(envs)+len(broken), mdir, len(broken), lookups)
	opts.Progress = clearFirst{status: status, w: stderr}
	rep, err := gcpkg.Run(cmd.Context(), envs, broken, opts)
	status.Clear()
	verb, n := "deleted", len(rep.Deleted)
	if o.dryRun {
		verb, n = "would delete", doomed(rep)
	}
	fmt.Fprintf(stderr, "gc: done in %s: %s %d of %d environments, %d errors\n",
		progress.Seconds(status.Elapsed()), verb, n, rep.Total, len(rep.Errors))
	out := cmd.OutOrStdout()
	if o.dryRun && !errors.Is(err, gcpkg.ErrGuard) {
		for _, d := range rep.Decisions {
			if d.Delete {
				fmt.Fprintln(out, envfile.FileName(d.Env))
			}
		}
	}
	for _, e := range rep.Deleted {
		fmt.Fprintln(out, envfile.FileName(e))
	}
	return err
}

func doomed(rep gcpkg.Report) int {
	n := 0
	for _, d := range rep.Decisions {
		if d.Delete {
			n++
		}
	}
	return n
}

// shownLookup shows each PR lookup on the status line (a terminal only:
// off a terminal the decisions printed afterwards say it all).
type shownLookup struct {
	prstate.Lookup
	status *progress.Status
}

func (c shownLookup) State(ctx context.Context, owner, repo string, pr int) (prstate.State, error) {
	c.status.Update("lookup", fmt.Sprintf("gc: asking for the state of %s/%s#%d (%s)", owner, repo, pr, progress.Seconds(c.status.Elapsed())))
	return c.Lookup.State(ctx, owner, repo, pr)
}

// clearFirst clears the status line before the pass's own lines.
type clearFirst struct {
	status *progress.Status
	w      io.Writer
}

func (c clearFirst) Write(p []byte) (int, error) {
	c.status.Clear()
	return c.w.Write(p)
}

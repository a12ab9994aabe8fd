// Package env is `previewctl env`: on-demand environments, not tied to a
// pull request (create, extend, delete, ls). Their files go through the
// same validation, rendering and template check as a PR's, into a manager
// checkout (--local) or the manager repository (--manager-repo), as gc
// deletes.
package env

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/envlist"
	"preview-environments/previewctl/pkg/managerdir"
	"preview-environments/previewctl/pkg/ondemand"
	"preview-environments/previewctl/pkg/prstate"
)

// common are the flags every subcommand takes.
type common struct {
	managerDir, service, now string
}

func (c *common) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.managerDir, "manager-dir", "", "manager directory: its template and environment files are checked (default: manager/ at the repository root)")
	f.StringVar(&c.service, "service", "", "service (default: the manager directory's only service)")
	f.StringVar(&c.now, "now", "", "act as of this RFC 3339 time")
	_ = f.MarkHidden("now")
}

// target are the flags that say where a file is written, as gc's say where
// it deletes.
type target struct {
	common
	local                                   bool
	managerRepo, branch, pathPrefix, apiURL string
	githubOutput                            string
	maxAttempts                             int
}

func (t *target) register(cmd *cobra.Command) {
	t.common.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&t.local, "local", false, "write in the manager directory instead of through the GitHub API")
	f.StringVar(&t.managerRepo, "manager-repo", "", "OWNER/REPO of the manager repository to write to (GITHUB_TOKEN)")
	f.StringVar(&t.branch, "branch", "", "branch of the manager repository (default: its default branch)")
	f.StringVar(&t.pathPrefix, "manager-path", "manager", "path of the manager directory inside the manager repository")
	f.StringVar(&t.apiURL, "api-url", cmp.Or(os.Getenv("GITHUB_API_URL"), "https://api.github.com"), "GitHub REST API URL")
	f.IntVar(&t.maxAttempts, "max-attempts", 0, "attempts per write on conflicts (0: the update-file-action default)")
	f.StringVar(&t.githubOutput, "github-output", "", "append id, name, file, path, expires_at, code_version, infra_branch to this file in $GITHUB_OUTPUT form")
}

// manager checks the target flags (exit 2 for any misuse, before anything
// is read) and returns the manager to act through.
func (t *target) manager(cmd *cobra.Command) (ondemand.Manager, error) {
	if t.local && t.managerRepo != "" {
		return ondemand.Manager{}, cmdutil.Invalid(fmt.Errorf("--local and --manager-repo %q exclude each other: write on disk or in the manager repository", t.managerRepo))
	}
	if !t.local && t.managerRepo == "" {
		return ondemand.Manager{}, cmdutil.Invalid(errors.New(`invalid manager-repo "": pass --manager-repo OWNER/REPO, or --local`))
	}
	// Ignored without --manager-repo, these would let a run write on disk
	// when its caller meant a branch of the manager repository.
	for _, name := range []string{"branch", "manager-path", "max-attempts", "api-url"} {
		if fl := cmd.Flags().Lookup(name); fl.Changed && t.managerRepo == "" {
			return ondemand.Manager{}, cmdutil.Invalid(fmt.Errorf("--%s %q applies only with --manager-repo", name, fl.Value.String()))
		}
	}
	if t.maxAttempts < 0 || t.maxAttempts > 100 {
		return ondemand.Manager{}, cmdutil.Invalid(fmt.Errorf("invalid max-attempts %d: want 1 to 100, or 0 for the default", t.maxAttempts))
	}
	mdir, _, err := managerdir.Resolve(t.managerDir, ".")
	if err != nil {
		return ondemand.Manager{}, err
	}
	if t.local {
		return ondemand.Manager{Dir: mdir, Store: ondemand.LocalStore{ManagerDir: mdir}}, nil
	}
	owner, repo, ok := strings.Cut(t.managerRepo, "/")
	if !ok {
		return ondemand.Manager{}, cmdutil.Invalid(fmt.Errorf("invalid manager-repo %q: want OWNER/REPO", t.managerRepo))
	}
	if err := cmp.Or(envfile.ValidateOwner(owner), envfile.ValidateRepo(repo)); err != nil {
		return ondemand.Manager{}, cmdutil.Invalid(fmt.Errorf("invalid manager-repo %q: %w", t.managerRepo, err))
	}
	if t.branch != "" {
		if err := envfile.ValidateBranch(t.branch); err != nil {
			return ondemand.Manager{}, cmdutil.Invalid(fmt.Errorf("invalid branch %q: %w", t.branch, err))
		}
	}
	client, err := prstate.NewClient(t.apiURL, os.Getenv("GITHUB_TOKEN"))
	if err != nil {
		return ondemand.Manager{}, cmdutil.Invalid(err)
	}
	return ondemand.Manager{Dir: mdir, Store: ondemand.RepoStore{
		Client: client, Owner: owner, Repo: repo, Branch: t.branch, PathPrefix: t.pathPrefix, MaxAttempts: t.maxAttempts,
	}}, nil
}

// resolveService fills an empty --service with the manager directory's only
// service.
func resolveService(service, managerDir string) (string, error) {
	if service != "" {
		return service, nil
	}
	services, err := envfile.Services(managerDir)
	if err != nil || len(services) != 1 {
		return "", cmdutil.Invalid(fmt.Errorf(`invalid service "": pass --service (the manager directory %s has %d services %q)`, managerDir, len(services), services))
	}
	return services[0], nil
}

// New returns the env command.
func New() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "env",
		Short: "On-demand environments, not tied to a PR: create, extend, delete, ls",
		Long: `An on-demand environment is a preview environment that belongs to no pull
request: named by hand (--name, 3 to 40 lowercase letters, digits and
hyphens, starting with a letter), it runs a code version and an infra
branch until its TTL passes, when gc deletes it. Its ID is "o" and the first
7 hex characters of sha256("ondemand:" + name), which no PR ID (8 hex
characters) can equal; its file is ondemand-<name>-<id>.tf.

create, extend and delete write through the update-file-action into the
manager repository (--manager-repo OWNER/REPO, GITHUB_TOKEN) or on disk
(--local); the template and other environments are checked in the manager
directory (--manager-dir) first. Refused input exits 2 with one line naming
it, and nothing is written.`,
	}
	cmd.AddCommand(newCreate(), newExtend(), newDelete(), newList())
	cmdutil.InvalidFlags(cmd) // the subcommands inherit it
	return cmd
}

// run is the body of create, extend and delete: it refuses bad input (the
// first error of the subcommand's own flags, --name first), then misused
// target flags, before the manager directory is touched; runs op through
// the manager for the resolved service; and reports its result.
func (t *target) run(cmd *cobra.Command, input error, op func(ctx context.Context, m ondemand.Manager, service string, now time.Time) (ondemand.Result, error)) error {
	if input != nil {
		return cmdutil.Invalid(input)
	}
	now, err := cmdutil.Now(t.now)
	if err != nil {
		return err
	}
	m, err := t.manager(cmd)
	if err != nil {
		return err
	}
	service, err := resolveService(t.service, m.Dir)
	if err != nil {
		return err
	}
	res, err := op(cmd.Context(), m, service, now)
	if err != nil {
		return fail(err, service)
	}
	return report(cmd, *t, res, now)
}

// fail maps an operation's error to an exit code: refused input 2, the
// rest (exists, not found, template mismatch, collision, API) 1.
func fail(err error, service string) error {
	var fe *envfile.FieldError
	switch {
	case errors.As(err, &fe):
		return cmdutil.Invalid(err)
	case errors.Is(err, envfile.ErrNoTemplate):
		return cmdutil.Invalid(&envfile.FieldError{Field: "service", Value: service, Reason: err.Error()})
	}
	return err
}

func newCreate() *cobra.Command {
	var t target
	var name, codeVersion, infraBranch string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "create --name N --code-version V --infra-branch B [--ttl 48h] (--local | --manager-repo O/R)",
		Short: "Create an on-demand environment",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			input := cmp.Or(envfile.ValidateName(name), envfile.ValidateCodeVersion(codeVersion), envfile.ValidateBranch(infraBranch))
			return t.run(cmd, input, func(ctx context.Context, m ondemand.Manager, service string, now time.Time) (ondemand.Result, error) {
				return m.Create(ctx, ondemand.CreateRequest{Service: service, Name: name, CodeVersion: codeVersion, InfraBranch: infraBranch, TTL: ttl}, now)
			})
		},
	}
	t.register(cmd)
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "the environment's name, e.g. qa-checkout")
	f.StringVar(&codeVersion, "code-version", "", `40-hex commit sha of the artifact, or "latest"`)
	f.StringVar(&infraBranch, "infra-branch", "", "branch whose infra/ the environment's stack runs")
	cmdutil.TTLFlag(cmd, &ttl, "ttl", envfile.DefaultOnDemandTTL, fmt.Sprintf("time until the environment expires (at most %d days)", envfile.MaxTTL/(24*time.Hour)))
	return cmd
}

func newExtend() *cobra.Command {
	var t target
	var name string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "extend --name N [--ttl 48h] (--local | --manager-repo O/R)",
		Short: "Set an on-demand environment's expiry to now + --ttl",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return t.run(cmd, envfile.ValidateName(name), func(ctx context.Context, m ondemand.Manager, service string, now time.Time) (ondemand.Result, error) {
				return m.Extend(ctx, service, name, ttl, now)
			})
		},
	}
	t.register(cmd)
	cmd.Flags().StringVar(&name, "name", "", "the environment's name")
	cmdutil.TTLFlag(cmd, &ttl, "ttl", envfile.DefaultOnDemandTTL, fmt.Sprintf("the new expiry, counted from now (at most %d days)", envfile.MaxTTL/(24*time.Hour)))
	return cmd
}

func newDelete() *cobra.Command {
	var t target
	var name string
	cmd := &cobra.Command{
		Use:   "delete --name N (--local | --manager-repo O/R)",
		Short: "Delete an on-demand environment (its destructor destroys the resources); an absent one is not an error",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return t.run(cmd, envfile.ValidateName(name), func(ctx context.Context, m ondemand.Manager, service string, _ time.Time) (ondemand.Result, error) {
				return m.Delete(ctx, service, name)
			})
		},
	}
	t.register(cmd)
	cmd.Flags().StringVar(&name, "name", "", "the environment's name")
	return cmd
}

// report prints one line on stdout and the step outputs.
func report(cmd *cobra.Command, t target, res ondemand.Result, now time.Time) error {
	e := res.Env
	if t.githubOutput != "" {
		if err := appendOutputs(t.githubOutput, t.pathPrefix, e); err != nil {
			return err
		}
	}
	out := cmd.OutOrStdout()
	var err error
	switch {
	case res.Op == "absent":
		_, err = fmt.Fprintf(out, "on-demand environment %s (%s): no file at %s, nothing to delete\n", e.Name, e.ID, res.Where)
	case strings.HasPrefix(res.Op, "deleted"):
		_, err = fmt.Fprintf(out, "on-demand environment %s (%s): %s: %s\n", e.Name, e.ID, res.Where, res.Op)
	default:
		_, err = fmt.Fprintf(out, "on-demand environment %s (%s): %s: %s; code_version %s, infra branch %s, expires %s (in %s)\n",
			e.Name, e.ID, res.Where, res.Op, e.CodeVersion, e.InfraBranch, e.ExpiresAt.Format(time.RFC3339), envlist.Human(e.ExpiresAt.Sub(now)))
	}
	return err
}

// appendOutputs writes step outputs. Every value passed validation, so
// none holds a newline that could forge another output.
func appendOutputs(file, prefix string, e envfile.Environment) error {
	lines := []string{
		"id=" + e.ID,
		"name=" + e.Name,
		"service=" + e.Service,
		"module=" + envfile.ModuleName(e),
		"file=" + envfile.FileName(e),
		"path=" + path.Join(prefix, e.Service, "environments", envfile.FileName(e)),
	}
	if !e.ExpiresAt.IsZero() {
		lines = append(lines, "expires_at="+e.ExpiresAt.Format(time.RFC3339), "code_version="+e.CodeVersion, "infra_branch="+e.InfraBranch)
	}
	return cmdutil.AppendOutputs(file, lines)
}

func newList() *cobra.Command {
	var c common
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls [--service S] [--json]",
		Short: "List the on-demand environments in the manager directory, with their expiry",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now, err := cmdutil.Now(c.now)
			if err != nil {
				return err
			}
			if c.service != "" {
				if err := envfile.ValidateService(c.service); err != nil {
					return cmdutil.Invalid(err)
				}
			}
			mdir, _, err := managerdir.Resolve(c.managerDir, ".")
			if err != nil {
				return err
			}
			envs, errs := ondemand.List(mdir, c.service)
			return envlist.Print(cmd.OutOrStdout(), cmd.ErrOrStderr(), asJSON, envs, errs, now,
				envlist.Name, envlist.ID, envlist.Service, envlist.Code, envlist.InfraBranch, envlist.Age, envlist.ExpiresAt)
		},
	}
	c.register(cmd)
	cmd.Flags().Lookup("service").Usage = "only this service (default: every service)"
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

// Package render is `previewctl render`: the environment file for a PR.
package render

import (
	"errors"
	"fmt"
	"os"
	"path"
	"time"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/ghevent"
	"preview-environments/previewctl/pkg/managerdir"
)

type options struct {
	service, owner, repo, codeVersion, infraBranch string
	pr                                             int
	event, managerDir, githubOutput, now           string
	write                                          bool
	ttl                                            time.Duration
}

// New returns the render command.
func New() *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "render --service S --owner O --repo R --pr N --code-version V --infra-branch B",
		Short: "Print (or --write) the environment file for a pull request",
		Long: `Render the environment file for a pull request with hclwrite, after
validating every field. Invalid or hostile input exits 2 with one line on
stderr and nothing on stdout.

Run inside the repository (or with --manager-dir), the file is also checked
against manager/SERVICE/template's variables, an ID collision with another
PR is refused, and a PR's existing created_at is kept. --event reads owner,
repo, number, head sha (code version) and head ref (infra branch) from a
GitHub pull_request payload; flags given explicitly win over the event.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd, o) },
	}
	cmdutil.InvalidFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.service, "service", "", "service name (a DNS label), e.g. hello-service")
	f.StringVar(&o.owner, "owner", "", "owner of the PR's base repository")
	f.StringVar(&o.repo, "repo", "", "the PR's base repository")
	cmdutil.PRFlag(cmd, &o.pr, "pr", "pull request number (decimal)")
	f.StringVar(&o.codeVersion, "code-version", "", `40-hex commit sha of the artifact, or "latest"`)
	f.StringVar(&o.infraBranch, "infra-branch", "", "branch whose infra/ the environment's stack runs")
	f.StringVar(&o.event, "event", "", "GitHub pull_request event payload (JSON file)")
	f.StringVar(&o.managerDir, "manager-dir", "", "manager directory (default: manager/ at the repository root)")
	f.BoolVar(&o.write, "write", false, "write into MANAGER/SERVICE/environments/ (atomically) instead of stdout")
	cmdutil.TTLFlag(cmd, &o.ttl, "ttl", envfile.DefaultTTL, fmt.Sprintf("time until the environment expires (at most %d days); each render renews it", envfile.MaxTTL/(24*time.Hour)))
	f.StringVar(&o.githubOutput, "github-output", "", "append id, module, file, path to this file in $GITHUB_OUTPUT form")
	f.StringVar(&o.now, "now", "", "render as of this RFC 3339 time (for reproducible output)")
	_ = f.MarkHidden("now")
	return cmd
}

func run(cmd *cobra.Command, o *options) error {
	stderr := cmd.ErrOrStderr()
	if o.event != "" {
		if err := fromEvent(cmd, o); err != nil {
			return err
		}
	}
	if o.service == "" {
		return cmdutil.Invalid(errors.New(`invalid service "": --service is required`))
	}
	now, err := cmdutil.Now(o.now)
	if err != nil {
		return err
	}
	e, err := envfile.New(o.service, o.owner, o.repo, o.pr, o.codeVersion, o.infraBranch, now, o.ttl)
	if err != nil {
		return cmdutil.Invalid(err)
	}

	mdir, explicit, err := managerdir.Resolve(o.managerDir, ".")
	switch {
	case err != nil && (explicit || o.write):
		return err
	case err != nil:
		fmt.Fprintf(stderr, "previewctl: note: %v; template and collisions not checked\n", err)
	default:
		prepared, err := envfile.Prepare(mdir, e)
		switch {
		case errors.Is(err, envfile.ErrNoTemplate) && !explicit && !o.write && !isDir(mdir):
			// A repository without a manager directory is not this
			// project's checkout: as outside any repository, nothing to
			// check against.
			fmt.Fprintf(stderr, "previewctl: note: %v; template and collisions not checked\n", err)
		case errors.Is(err, envfile.ErrNoTemplate):
			// With the manager directory at hand, a service without a
			// template is a typo or a service that does not exist: its
			// file would be a module no plan can instantiate.
			return cmdutil.Invalid(&envfile.FieldError{Field: "service", Value: e.Service, Reason: err.Error()})
		case err != nil:
			return err
		default:
			e = prepared
		}
	}

	if o.githubOutput != "" {
		if err := appendOutputs(o.githubOutput, e); err != nil {
			return err
		}
	}
	if o.write {
		p, err := envfile.WriteAtomic(envfile.EnvironmentsDir(mdir, e.Service), e)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "previewctl: wrote %s\n", p)
		return nil
	}
	src, err := envfile.Render(e)
	if err != nil {
		return cmdutil.Invalid(err)
	}
	_, err = cmd.OutOrStdout().Write(src)
	return err
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// fromEvent fills the fields the user did not pass from the event payload.
func fromEvent(cmd *cobra.Command, o *options) error {
	fh, err := os.Open(o.event)
	if err != nil {
		return cmdutil.Invalid(fmt.Errorf("invalid event %q: %w", o.event, err))
	}
	defer fh.Close()
	ev, err := ghevent.Read(fh)
	if err != nil {
		return cmdutil.Invalid(fmt.Errorf("invalid event %q: %w", o.event, err))
	}
	set := func(flag string, dst *string, v string) {
		if !cmd.Flags().Changed(flag) {
			*dst = v
		}
	}
	set("owner", &o.owner, ev.Owner)
	set("repo", &o.repo, ev.Repo)
	set("code-version", &o.codeVersion, ev.HeadSHA)
	set("infra-branch", &o.infraBranch, ev.HeadRef)
	if !cmd.Flags().Changed("pr") {
		o.pr = ev.Number
	}
	return nil
}

// appendOutputs writes step outputs. Every value passed validation, so
// none holds a newline that could forge another output.
func appendOutputs(file string, e envfile.Environment) error {
	lines := []string{
		"id=" + e.ID,
		"module=" + envfile.ModuleName(e),
		"file=" + envfile.FileName(e),
		"path=" + path.Join("manager", e.Service, "environments", envfile.FileName(e)),
		"code_version=" + e.CodeVersion,
		"infra_branch=" + e.InfraBranch,
	}
	return cmdutil.AppendOutputs(file, lines)
}

package sandbox

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox/platform"
)

// newEnv is `sandbox env`: `previewctl env` against a running sandbox, whose
// platform commits the file to its git host's main as ondemand.yml does in
// production.
func newEnv() *cobra.Command {
	return apiGroup(&cobra.Command{
		Use:   "env",
		Short: "Create, extend, delete and list on-demand environments (not tied to a PR) on a running sandbox",
		Long: `env drives the on-demand environments of a running sandbox (` + "`previewctl sandbox up`" + `),
as ` + "`previewctl env`" + ` and ondemand.yml do in production: the environment file is
checked against main's template and committed to main through the GitHub
stand-in's contents API, then the manager and environment stacks deploy it.
Input is refused (exit 2, one line naming it) before anything is sent.`,
	}, newEnvCreate, newEnvExtend, newEnvDelete, newEnvList)
}

func newEnvCreate(client func() *client) *cobra.Command {
	var name, codeVersion, infraBranch string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "create --name N [--code-version latest] [--infra-branch main] [--ttl 48h]",
		Short: "Create an on-demand environment",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cmp.Or(envfile.ValidateName(name), envfile.ValidateCodeVersion(codeVersion), envfile.ValidateBranch(infraBranch)); err != nil {
				return cmdutil.Invalid(err)
			}
			req := platform.OnDemandRequest{Name: name, CodeVersion: codeVersion, InfraBranch: infraBranch, TTL: ttl.String()}
			return answer(cmd, client(), false, http.MethodPost, "/api/ondemand", req, func(out io.Writer, v platform.OnDemandView) error {
				_, err := fmt.Fprintf(out, "on-demand environment %s (%s) %s: code_version %s, infra branch %s, expires %s\nURL %s once its stack has deployed (previewctl sandbox env ls)\n",
					v.Name, v.ID, v.Op, v.CodeVersion, v.InfraBranch, v.ExpiresAt.Format(time.RFC3339), v.URL)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the environment's name, e.g. qa-checkout")
	cmd.Flags().StringVar(&codeVersion, "code-version", "latest", `40-hex commit sha whose artifact is in the bucket, or "latest"`)
	cmd.Flags().StringVar(&infraBranch, "infra-branch", platform.DefaultBranch, "branch whose infra/ the environment's stack runs")
	cmdutil.TTLFlag(cmd, &ttl, "ttl", envfile.DefaultOnDemandTTL, "time until the environment expires")
	return cmd
}

func newEnvExtend(client func() *client) *cobra.Command {
	var name string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "extend --name N [--ttl 48h]",
		Short: "Set an on-demand environment's expiry to now + --ttl",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := envfile.ValidateName(name); err != nil {
				return cmdutil.Invalid(err)
			}
			body := map[string]string{"ttl": ttl.String()}
			return answer(cmd, client(), false, http.MethodPost, "/api/ondemand/"+url.PathEscape(name)+"/extend", body, func(out io.Writer, v platform.OnDemandView) error {
				_, err := fmt.Fprintf(out, "on-demand environment %s (%s) %s: expires %s\n", v.Name, v.ID, v.Op, v.ExpiresAt.Format(time.RFC3339))
				return err
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the environment's name")
	cmdutil.TTLFlag(cmd, &ttl, "ttl", envfile.DefaultOnDemandTTL, "the new expiry, counted from now")
	return cmd
}

func newEnvDelete(client func() *client) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "delete --name N",
		Short: "Delete an on-demand environment (the destructor destroys it); an absent one is not an error",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := envfile.ValidateName(name); err != nil {
				return cmdutil.Invalid(err)
			}
			return answer(cmd, client(), false, http.MethodDelete, "/api/ondemand/"+url.PathEscape(name), nil, func(out io.Writer, v platform.OnDemandView) error {
				if v.Op == "absent" {
					_, err := fmt.Fprintf(out, "on-demand environment %s (%s): none on main, nothing to delete\n", v.Name, v.ID)
					return err
				}
				_, err := fmt.Fprintf(out, "on-demand environment %s (%s) %s; its stack is being destroyed (previewctl sandbox status)\n", v.Name, v.ID, v.Op)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the environment's name")
	return cmd
}

func newEnvList(client func() *client) *cobra.Command {
	return newList(client, "List on-demand environments with their expiry, URL and the version they serve", "/api/ondemand", "no on-demand environments",
		func(v platform.OnDemandView) string { return onDemandLine(v, time.Now()) })
}

func onDemandLine(v platform.OnDemandView, now time.Time) string {
	left := "expires in " + v.ExpiresAt.Sub(now).Round(time.Minute).String()
	if !now.Before(v.ExpiresAt) {
		left = "expired (gc deletes it)"
	}
	return fmt.Sprintf("%s  %s  code %s, infra %s, %s (%s), serving %s  %s",
		v.Name, v.ID, v.CodeVersion, v.InfraBranch, left, v.ExpiresAt.Format(time.RFC3339), cmp.Or(v.Serving, "not deployed"), v.URL)
}

// Package ls is `previewctl ls`: the environments in the manager directory.
package ls

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/managerdir"
)

// New returns the ls command.
func New() *cobra.Command {
	var managerDir, service, nowFlag string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the environments in the manager directory",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mdir, _, err := managerdir.Resolve(managerDir, ".")
			if err != nil {
				return err
			}
			envs, errs := envfile.ReadManager(mdir, service)
			if envs == nil {
				envs = []envfile.Environment{}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				err = enc.Encode(envs)
			} else {
				now := time.Now()
				if nowFlag != "" {
					if now, err = time.Parse(time.RFC3339, nowFlag); err != nil {
						return cmdutil.Invalid(fmt.Errorf("invalid now %q: not an RFC 3339 time", nowFlag))
					}
				}
				err = Table(out, envs, now)
			}
			if err != nil {
				return err
			}
			for _, e := range errs {
				fmt.Fprintf(cmd.ErrOrStderr(), "previewctl: %v\n", e)
			}
			if len(errs) > 0 {
				return fmt.Errorf("%d environment files could not be read", len(errs))
			}
			return nil
		},
	}
	cmdutil.InvalidFlags(cmd)
	cmd.Flags().StringVar(&managerDir, "manager-dir", "", "manager directory (default: manager/ at the repository root)")
	cmd.Flags().StringVar(&service, "service", "", "only this service (default: every service)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	cmd.Flags().StringVar(&nowFlag, "now", "", "compute ages as of this RFC 3339 time")
	_ = cmd.Flags().MarkHidden("now")
	return cmd
}

// Table writes envs as an aligned table.
func Table(w io.Writer, envs []envfile.Environment, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSERVICE\tPR\tCODE\tINFRA BRANCH\tAGE\tEXPIRES")
	for _, e := range envs {
		code := e.CodeVersion
		if len(code) == 40 {
			code = code[:7]
		}
		expires := "in " + Human(e.ExpiresAt.Sub(now))
		if !now.Before(e.ExpiresAt) {
			expires = "expired " + Human(now.Sub(e.ExpiresAt)) + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Service, e.Subject(), code, e.InfraBranch, Human(now.Sub(e.CreatedAt)), expires)
	}
	if err := tw.Flush(); err != nil {
		return errors.Join(errors.New("writing table"), err)
	}
	return nil
}

// Human renders a duration the way people read ages: 3d4h, 5h12m, 42s.
func Human(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%ds", d/time.Minute, (d%time.Minute)/time.Second)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

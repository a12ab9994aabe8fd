// Package ls is `previewctl ls`: the environments in the manager directory,
// each with the Spacelift stacks its service's template makes of it.
package ls

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/envlist"
	"preview-environments/previewctl/pkg/managerdir"
)

// New returns the ls command.
func New() *cobra.Command {
	var managerDir, service, nowFlag string
	var varFlags []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the environments in the manager directory, with their stacks",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mdir, _, err := managerdir.Resolve(managerDir, ".")
			if err != nil {
				return err
			}
			now, err := cmdutil.Now(nowFlag)
			if err != nil {
				return err
			}
			vars, err := parseVars(varFlags)
			if err != nil {
				return err
			}
			m, err := managerdir.OpenManager(mdir, managerdir.Options{Vars: vars, LookupEnv: os.LookupEnv})
			if errors.Is(err, managerdir.ErrUndeclaredVar) {
				return cmdutil.Invalid(err)
			}
			if err != nil {
				return err
			}
			envs, errs := envfile.ReadManager(mdir, service)
			// Every environment's stacks before a line is printed: a
			// template that cannot be evaluated fails the whole listing.
			listed, err := withStacks(m, envs)
			if err != nil {
				return err
			}
			return envlist.PrintStacks(cmd.OutOrStdout(), cmd.ErrOrStderr(), asJSON, listed, errs, now,
				envlist.ID, envlist.Service, envlist.PR, envlist.Code, envlist.InfraBranch, envlist.Age, envlist.Expires)
		},
	}
	cmdutil.InvalidFlags(cmd)
	cmd.Flags().StringVar(&managerDir, "manager-dir", "", "manager directory (default: manager/ at the repository root)")
	cmd.Flags().StringVar(&service, "service", "", "only this service (default: every service)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	cmd.Flags().StringArrayVar(&varFlags, "var", nil, "a manager variable as the manager stack sets it (name=value, e.g. data_stack=false); repeatable, wins over TF_VAR_<name>")
	cmd.Flags().StringVar(&nowFlag, "now", "", "compute ages as of this RFC 3339 time")
	_ = cmd.Flags().MarkHidden("now")
	return cmd
}

// parseVars reads --var name=value flags; a later one wins, as with -var.
func parseVars(flags []string) (map[string]string, error) {
	vars := map[string]string{}
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			return nil, cmdutil.Invalid(fmt.Errorf("invalid var %q: want name=value", f))
		}
		vars[name] = value
	}
	return vars, nil
}

// withStacks pairs each environment with its stacks; the manager reads
// each service's template once.
func withStacks(m *managerdir.Manager, envs []envfile.Environment) ([]envlist.Listed, error) {
	listed := make([]envlist.Listed, 0, len(envs))
	for _, e := range envs {
		t, err := m.Template(e.Service)
		if err != nil {
			return nil, fmt.Errorf("stacks of %s: %w", e.Service, err)
		}
		stacks, err := t.Stacks(e)
		if err != nil {
			return nil, fmt.Errorf("stacks of environment %s (%s): %w", e.ID, envfile.FileName(e), err)
		}
		listed = append(listed, envlist.Listed{Environment: e, Stacks: stacks})
	}
	return listed, nil
}

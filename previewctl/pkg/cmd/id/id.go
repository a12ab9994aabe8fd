// Package id is `previewctl id`: print an environment's ID.
package id

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/envfile"
)

// New returns the id command.
func New() *cobra.Command {
	var owner, repo string
	var pr int
	cmd := &cobra.Command{
		Use:   "id --owner OWNER --repo REPO --pr N",
		Short: "Print the environment ID of a pull request",
		Long: `Print the environment ID of a pull request and a newline: the first 8 hex
characters of sha256(lower(OWNER) + "/" + lower(REPO) + "#" + N), the same as
  printf '%s' 'acme/shop#42' | sha256sum | cut -c1-8`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("pr") {
				return cmdutil.Invalid(errors.New("invalid pr: --pr is required"))
			}
			for _, err := range []error{envfile.ValidateOwner(owner), envfile.ValidateRepo(repo), envfile.ValidatePR(pr)} {
				if err != nil {
					return cmdutil.Invalid(err)
				}
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), envfile.ID(owner, repo, pr))
			return err
		},
	}
	cmdutil.InvalidFlags(cmd)
	cmd.Flags().StringVar(&owner, "owner", "", "owner of the PR's base repository")
	cmd.Flags().StringVar(&repo, "repo", "", "the PR's base repository")
	cmdutil.PRFlag(cmd, &pr, "pr", "pull request number (decimal)")
	return cmd
}

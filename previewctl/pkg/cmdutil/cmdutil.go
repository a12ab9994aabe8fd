// Package cmdutil holds what subcommands share with the root command
// without importing it (root imports every subcommand).
package cmdutil

import (
	"github.com/spf13/cobra"
)

// ExitInvalid is the exit code for refused input.
const ExitInvalid = 2

// ExitError carries a specific process exit code up to main. root.ExitError
// is an alias of it.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Invalid marks err as refused input: exit code 2.
func Invalid(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitInvalid, Err: err}
}

// InvalidFlags makes flag parse errors (unknown flag, "--pr abc") exit 2 too.
func InvalidFlags(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return Invalid(err) })
}

// Package cmdutil holds what subcommands share with the root command
// without importing it (root imports every subcommand), and what sibling
// commands share without importing each other: exit codes, argument and
// flag parsing, printing an answer (--json or lines), the --now clock, step
// outputs, and where the repository and its tools are.
package cmdutil

import (
	"errors"
	"fmt"
	"strings"

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

// ExitCode is the process exit code for a command's error: 0 for none, an
// ExitError's own code, else 1.
func ExitCode(err error) int {
	var ee *ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.Code
	}
	return 1
}

// Invalid marks err as refused input: exit code 2.
func Invalid(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitInvalid, Err: err}
}

// InvalidFlags makes flag parse errors (unknown flag, "--pr abc") exit 2 too.
// Subcommands inherit it from the root; setting it on one keeps that
// command's tests independent of the tree it is mounted in.
func InvalidFlags(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return Invalid(err) })
}

// NoArgs refuses positional arguments as a usage error. cobra.NoArgs calls
// them an unknown command, which reads wrongly for a leaf command.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		// main prefixes "previewctl: " already.
		path := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
		return Invalid(fmt.Errorf("%s takes no arguments, got %q", path, args))
	}
	return nil
}

// UsageErrors makes every usage error of the tree under cmd exit 2, as the
// README promises, where cobra would exit 1 or print help and exit 0:
//   - a word that names no subcommand ("previewctl rnder", "sandbox nosuch");
//   - arguments a command's Args refuses, whatever validator it uses;
//   - flag parse errors;
//   - "help nosuch".
//
// Call it once the tree is complete.
func UsageErrors(cmd *cobra.Command) {
	InvalidFlags(cmd)
	cmd.InitDefaultCompletionCmd()
	cmd.SetHelpCommand(helpCommand())
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		switch {
		case c.HasSubCommands() && c.Args == nil:
			c.Args = unknownCommand
		case c.Args != nil:
			check := c.Args
			c.Args = func(c *cobra.Command, args []string) error {
				err := check(c, args)
				if ee := (*ExitError)(nil); err != nil && !errors.As(err, &ee) {
					return Invalid(err)
				}
				return err
			}
		}
		// cobra validates the arguments of runnable commands only: a group
		// without a Run would print its help for any word and exit 0.
		if c.HasSubCommands() && !c.Runnable() {
			c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(cmd)
}

// unknownCommand refuses a word that names no subcommand, on one line (cobra's
// own message spans several with its suggestions).
func unknownCommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's own default, set only on its path
	}
	if s := c.SuggestionsFor(args[0]); len(s) > 0 && !c.DisableSuggestions {
		msg += fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return Invalid(errors.New(msg))
}

// helpCommand is cobra's help command, except that an unknown topic is a
// usage error instead of the root's help and exit 0.
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help provides help for any command in the application.",
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err == nil && len(rest) > 0 {
				err = fmt.Errorf("unknown help topic %q for %q", rest[0], target.CommandPath())
			}
			if err != nil {
				return Invalid(err)
			}
			return target.Help()
		},
	}
}

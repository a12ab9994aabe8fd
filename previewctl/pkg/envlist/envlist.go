// Package envlist prints a list of environment files for `previewctl ls`
// and `previewctl env ls`: a table of the columns a command picks (for ls
// with each environment's stacks), or JSON with --json, and the files that
// could not be read.
package envlist

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/managerdir"
)

// Column is one column of the table: its header and its cell for an
// environment as of now.
type Column struct {
	Header string
	Cell   func(e envfile.Environment, now time.Time) string
}

// The columns a listing picks from.
var (
	Name        = Column{"NAME", func(e envfile.Environment, _ time.Time) string { return e.Name }}
	ID          = Column{"ID", func(e envfile.Environment, _ time.Time) string { return e.ID }}
	Service     = Column{"SERVICE", func(e envfile.Environment, _ time.Time) string { return e.Service }}
	PR          = Column{"PR", func(e envfile.Environment, _ time.Time) string { return e.Subject() }}
	Code        = Column{"CODE", func(e envfile.Environment, _ time.Time) string { return shortCode(e.CodeVersion) }}
	InfraBranch = Column{"INFRA BRANCH", func(e envfile.Environment, _ time.Time) string { return e.InfraBranch }}
	Age         = Column{"AGE", func(e envfile.Environment, now time.Time) string { return Human(now.Sub(e.CreatedAt)) }}
	// Expires is "in 5d22h" or "expired 3d0h ago".
	Expires = Column{"EXPIRES", func(e envfile.Environment, now time.Time) string { return expires(e, now) }}
	// ExpiresAt is Expires with the time itself: "in 1d0h (2026-11-30T05:00:00Z)".
	ExpiresAt = Column{"EXPIRES", func(e envfile.Environment, now time.Time) string {
		return expires(e, now) + " (" + e.ExpiresAt.Format(time.RFC3339) + ")"
	}}
)

// Print lists envs on out: with asJSON as a JSON array ([] when there are
// none), else as a table of cols as of now. unread are the files that could
// not be read: the rest is listed all the same, then each is named on
// stderr and the listing fails (exit 1).
func Print(out, stderr io.Writer, asJSON bool, envs []envfile.Environment, unread []error, now time.Time, cols ...Column) error {
	if envs == nil {
		envs = []envfile.Environment{}
	}
	rows := make([][]string, len(envs))
	for i, e := range envs {
		rows[i] = cells(e, now, cols)
	}
	return list(out, stderr, asJSON, envs, headers(cols), rows, unread)
}

// Listed is an environment with its Spacelift stacks: in JSON the
// environment's fields, then "stacks".
type Listed struct {
	envfile.Environment
	Stacks []managerdir.Stack `json:"stacks"`
}

// StacksHeader heads the column PrintStacks adds.
const StacksHeader = "STACKS"

// PrintStacks is Print for environments with their stacks: the table gets
// a last STACKS column (StacksCell), the JSON a "stacks" array in each
// environment ([] when it has none).
func PrintStacks(out, stderr io.Writer, asJSON bool, envs []Listed, unread []error, now time.Time, cols ...Column) error {
	items := make([]Listed, len(envs))
	rows := make([][]string, len(envs))
	for i, l := range envs {
		if l.Stacks == nil {
			l.Stacks = []managerdir.Stack{}
		}
		items[i] = l
		rows[i] = append(cells(l.Environment, now, cols), StacksCell(l.Stacks))
	}
	return list(out, stderr, asJSON, items, append(headers(cols), StacksHeader), rows, unread)
}

// StacksCell names an environment's stacks by role, dependencies first, a
// stack's own after "←" ("data, service←data"; "+" between several; a
// stack outside the environment by its ID); "-" for none.
func StacksCell(stacks []managerdir.Stack) string {
	if len(stacks) == 0 {
		return "-"
	}
	role := map[string]string{}
	for _, s := range stacks {
		role[s.ID] = s.Role
	}
	parts := make([]string, len(stacks))
	for i, s := range stacks {
		parts[i] = s.Role
		if len(s.DependsOn) == 0 {
			continue
		}
		deps := make([]string, len(s.DependsOn))
		for j, d := range s.DependsOn {
			if deps[j] = role[d]; deps[j] == "" {
				deps[j] = d
			}
		}
		parts[i] += "←" + strings.Join(deps, "+")
	}
	return strings.Join(parts, ", ")
}

func headers(cols []Column) []string {
	h := make([]string, len(cols))
	for i, c := range cols {
		h[i] = c.Header
	}
	return h
}

func cells(e envfile.Environment, now time.Time, cols []Column) []string {
	row := make([]string, len(cols))
	for i, c := range cols {
		row[i] = c.Cell(e, now)
	}
	return row
}

// list prints v as JSON or the table of header and rows, then the unread
// files.
func list(out, stderr io.Writer, asJSON bool, v any, header []string, rows [][]string, unread []error) error {
	if err := cmdutil.Print(out, asJSON, v, func(w io.Writer) error { return table(w, header, rows) }); err != nil {
		return err
	}
	for _, e := range unread {
		fmt.Fprintf(stderr, "previewctl: %v\n", e)
	}
	if len(unread) > 0 {
		return fmt.Errorf("%d environment files could not be read", len(unread))
	}
	return nil
}

func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range append([][]string{header}, rows...) {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return errors.Join(errors.New("writing table"), err)
	}
	return nil
}

// shortCode is a commit sha's first 7 characters; "latest" stays whole.
func shortCode(v string) string {
	if len(v) == 40 {
		return v[:7]
	}
	return v
}

func expires(e envfile.Environment, now time.Time) string {
	if !now.Before(e.ExpiresAt) {
		return "expired " + Human(now.Sub(e.ExpiresAt)) + " ago"
	}
	return "in " + Human(e.ExpiresAt.Sub(now))
}

// Human renders a duration the way people read ages: 3d4h, 5h12m, 42s (a
// negative one as its size).
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

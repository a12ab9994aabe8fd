package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	sb "preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/platform"
	"preview-environments/previewctl/pkg/sandbox/spacelift"
)

// StatusView is what `sandbox status --json` prints: the data plane's
// status, the Spacelift stacks with their last run, and the PRs with their
// previews. Stacks and PRs are absent when the sandbox serves only the data
// plane.
type StatusView struct {
	Sandbox sb.Status         `json:"sandbox"`
	Stacks  []StackView       `json:"stacks"`
	Runs    []RunView         `json:"runs"` // the latest runs of every stack, newest first
	PRs     []platform.PRView `json:"prs"`
}

// StackView is a stack as status shows it.
type StackView struct {
	ID            string `json:"id"`
	State         string `json:"state"`
	Branch        string `json:"branch"`
	ProjectRoot   string `json:"project_root"`
	EnvironmentID string `json:"environment_id,omitempty"`
	// Role is the stack's part of its environment (service, data).
	Role string `json:"role,omitempty"`
	// DependsOn lists the stacks this one's tracked runs wait for.
	DependsOn     []string `json:"depends_on,omitempty"`
	TrackedCommit string   `json:"tracked_commit,omitempty"`
	LastRun       *RunView `json:"last_run,omitempty"`
}

// RunView is a run as status shows it.
type RunView struct {
	ID        string    `json:"id"`
	StackID   string    `json:"stack_id"`
	Type      string    `json:"type"`
	State     string    `json:"state"`
	Cause     string    `json:"cause"`
	UpdatedAt time.Time `json:"updated_at"`
}

// runWindow bounds how many recent runs status reads to find each stack's
// last one; older stacks show no last run rather than costing a request each.
const runWindow = 1000

func runView(r spacelift.Run) RunView {
	return RunView{ID: r.ID, StackID: r.StackID, Type: r.Type, State: r.State, Cause: r.Cause, UpdatedAt: r.UpdatedAt}
}

func fetchStatus(ctx context.Context, c *client, recent int) (StatusView, error) {
	var v StatusView
	if _, err := c.do(ctx, http.MethodGet, "/api/status", nil, &v.Sandbox); err != nil {
		return v, err
	}
	var stacks []spacelift.Stack
	if _, err := c.do(ctx, http.MethodGet, "/api/spacelift/stacks", nil, &stacks); err != nil && !errors.Is(err, errNotServed) {
		return v, err
	}
	var runs []spacelift.Run
	if stacks != nil {
		if _, err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/spacelift/runs?limit=%d", runWindow), nil, &runs); err != nil {
			return v, err
		}
	}
	last := map[string]spacelift.Run{}
	for _, r := range runs { // newest first
		if _, ok := last[r.StackID]; !ok {
			last[r.StackID] = r
		}
	}
	v.Stacks = []StackView{}
	for _, s := range stacks {
		sv := StackView{ID: s.ID, State: s.State, Branch: s.Branch, ProjectRoot: s.ProjectRoot,
			EnvironmentID: s.EnvironmentID, Role: s.Role, DependsOn: s.DependsOn, TrackedCommit: s.TrackedCommit}
		if r, ok := last[s.ID]; ok {
			rv := runView(r)
			sv.LastRun = &rv
		}
		v.Stacks = append(v.Stacks, sv)
	}
	v.Runs = []RunView{}
	for i := 0; i < len(runs) && i < recent; i++ {
		v.Runs = append(v.Runs, runView(runs[i]))
	}
	v.PRs = []platform.PRView{}
	if _, err := c.do(ctx, http.MethodGet, "/api/prs", nil, &v.PRs); err != nil && !errors.Is(err, errNotServed) {
		return v, err
	}
	return v, nil
}

func newStatus() *cobra.Command {
	var addr string
	var asJSON bool
	var recent int
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what a running sandbox serves: stacks and their last run, recent runs, environments and URLs, PRs and previews",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sb.CheckLoopback(addr, "--addr"); err != nil {
				return cmdutil.Invalid(err)
			}
			if recent < 0 || recent > runWindow {
				return cmdutil.Invalid(fmt.Errorf("--runs %d: want 0 to %d", recent, runWindow))
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			v, err := fetchStatus(ctx, newClient(addr), recent)
			if err != nil {
				return err
			}
			// Status assembles several answers, so its JSON is its own.
			return cmdutil.Print(cmd.OutOrStdout(), asJSON, v, func(out io.Writer) error {
				printStatus(out, v, time.Now())
				return nil
			})
		},
	}
	cmdutil.InvalidFlags(cmd)
	cmd.Flags().StringVar(&addr, "addr", sb.DefaultAddr, "address of the running sandbox")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	cmd.Flags().IntVar(&recent, "runs", 10, "how many of the latest runs to list")
	return cmd
}

func printStatus(out io.Writer, v StatusView, now time.Time) {
	st := v.Sandbox
	fmt.Fprintf(out, "sandbox     %s\nS3 endpoint %s (bucket %s)\ndata        %s\n", st.URL, st.S3Endpoint, st.Bucket, st.DataDir)
	fmt.Fprintf(out, "\nstacks: %d\n", len(v.Stacks))
	for _, s := range v.Stacks {
		run := "no run"
		if r := s.LastRun; r != nil {
			run = fmt.Sprintf("last run %s %s %s %s ago: %s", r.ID, r.Type, r.State, ago(now, r.UpdatedAt), r.Cause)
		}
		if len(s.DependsOn) > 0 {
			run += " (depends on " + strings.Join(s.DependsOn, ", ") + ")"
		}
		fmt.Fprintf(out, "  %-33s %-8s branch %-20s %s\n", s.ID, s.State, s.Branch, run)
	}
	if len(v.Runs) > 0 {
		fmt.Fprintf(out, "\nlatest runs:\n")
	}
	for _, r := range v.Runs {
		fmt.Fprintf(out, "  %-12s %-28s %-8s %-9s %4s ago  %s\n", r.ID, r.StackID, r.Type, r.State, ago(now, r.UpdatedAt), r.Cause)
	}
	fmt.Fprintf(out, "\nenvironments: %d\n", len(st.Environments))
	for _, e := range st.Environments {
		fmt.Fprintf(out, "  %-10s %-14s %-12.12s warm=%d/%d  %s\n", e.ID, e.Service, e.Version, e.Warm, e.PoolSize, e.URL)
	}
	fmt.Fprintf(out, "\npull requests: %d\n", len(v.PRs))
	for _, pr := range v.PRs {
		fmt.Fprintf(out, "  %s\n", prLine(pr))
	}
}

func prLine(pr platform.PRView) string {
	preview := "no preview"
	if pv := pr.Preview; pv != nil {
		preview = fmt.Sprintf("preview %-10s %s", pv.State, pv.URL)
	}
	return fmt.Sprintf("#%-4d %-6s %-24s %-7.7s %s", pr.Number, pr.State, pr.HeadRef, pr.HeadSHA, preview)
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	default:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
}

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"preview-environments/previewctl/pkg/sandbox/platform"
	"preview-environments/previewctl/pkg/sandbox/spacelift"
	"preview-environments/test/e2e"
)

// Diagnostics implements e2e.Backend: what a person needs to see where the
// chain stopped, in the order the chain runs: the PR, its preview and CI
// log (package, render, wait), the environment stack and its last runs with
// their logs, the data plane, the last policy decisions, and the
// platform's own warnings.
func (b *Backend) Diagnostics(ctx context.Context, pr e2e.PR) string {
	var w strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&w, format+"\n", args...) }
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		line("sandbox: stopped early: %v", err)
	}
	// The scenario's context may be what ran out; reading gets its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), diagTimeout)
	defer cancel()
	id := pr.EnvironmentID
	line("sandbox: platform at %s, environment %s at %s", b.p.SB.URL(), id, b.p.EnvironmentURL(id))

	if gpr, err := b.p.Git.GetPR(ctx, pr.Owner, pr.Repo, pr.Number); err != nil {
		line("PR #%d: %v", pr.Number, err)
	} else {
		line("PR #%d %s: branch %s head %s", gpr.Number, gpr.State, gpr.HeadRef, gpr.HeadSHA)
	}
	if pv, err := b.p.Preview(ctx, pr.Number); err != nil {
		line("preview: %v", err)
	} else {
		line("preview: %s at %s (version %q, updated %s): %s", pv.State, pv.HeadSHA, pv.Version,
			pv.UpdatedAt.Format(time.RFC3339), pv.Comment)
	}
	if log, err := b.p.CILog(ctx, pr.Number); err != nil {
		line("CI log: %v", err)
	} else {
		line("CI log of PR #%d (%d lines%s):", pr.Number, len(log), tailNote(len(log), diagCILines))
		for _, l := range tail(log, diagCILines) {
			line("  %s %s", l.At.Format("15:04:05.000"), l.Line)
		}
	}

	stackID := b.StackID(id)
	if s, err := b.p.Engine.Stack(ctx, stackID); errors.Is(err, spacelift.ErrNotFound) {
		line("spacelift stack %s: none", stackID)
	} else if err != nil {
		line("spacelift stack %s: %v", stackID, err)
	} else {
		line("spacelift stack %s: state %s, branch %s, tracked commit %s", s.ID, s.State, s.Branch, s.TrackedCommit)
	}
	b.describeRuns(ctx, &w, stackID)
	b.describeRuns(ctx, &w, platform.ManagerStackID)

	if e, ok := b.p.SB.Environment(id); ok {
		line("data plane: environment %s, version %s, artifact %s, routes %v", e.ID, e.Version, e.ArtifactKey, e.Routes)
	} else {
		line("data plane: no environment %s", id)
	}
	if evs, err := b.p.Engine.Evaluations(ctx, diagEvals); err != nil {
		line("policy evaluations: %v", err)
	} else {
		line("last %d policy evaluations, newest first:", len(evs))
		for _, ev := range evs {
			line("  %s %s on %s: %s -> %s", ev.At.Format("15:04:05.000"), ev.Policy, ev.StackID, ev.Summary, ev.Decision)
		}
	}
	if logs := b.logs.lines(); len(logs) > 0 {
		line("platform warnings (%d%s):", len(logs), tailNote(len(logs), diagLogLines))
		for _, l := range tail(logs, diagLogLines) {
			line("  %s", l)
		}
	}
	return strings.TrimRight(w.String(), "\n")
}

func (b *Backend) describeRuns(ctx context.Context, w *strings.Builder, stackID string) {
	runs, err := b.p.Engine.Runs(ctx, stackID, diagRuns)
	if err != nil {
		fmt.Fprintf(w, "runs of %s: %v\n", stackID, err)
		return
	}
	fmt.Fprintf(w, "last %d runs of %s, newest first:\n", len(runs), stackID)
	for _, r := range runs {
		fmt.Fprintf(w, "  run %s %s %s at %s (%s)\n", r.ID, r.Type, r.State, r.Commit, r.Cause)
		logs, err := b.p.Engine.Logs(ctx, r.ID)
		if err != nil {
			fmt.Fprintf(w, "    log: %v\n", err)
			continue
		}
		if n := len(logs); n > diagRunLines {
			fmt.Fprintf(w, "    (%d earlier lines)\n", n-diagRunLines)
		}
		for _, l := range tail(logs, diagRunLines) {
			fmt.Fprintf(w, "    %s\n", l.Line)
		}
	}
}

func tail[T any](s []T, n int) []T {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func tailNote(n, max int) string {
	if n > max {
		return fmt.Sprintf(", last %d shown", max)
	}
	return ""
}

// ring keeps the last lines written to it: the platform's warnings, for
// Diagnostics.
type ring struct {
	mu  sync.Mutex
	max int
	buf []string
}

func newRing(max int) *ring { return &ring{max: max} }

func (r *ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		r.buf = append(r.buf, l)
	}
	if len(r.buf) > r.max {
		r.buf = append([]string(nil), r.buf[len(r.buf)-r.max:]...)
	}
	return len(p), nil
}

func (r *ring) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.buf...)
}

// Package e2e holds the preview lifecycle written once, the waits it is built
// from, and the saved-state bookkeeping that lets an interrupted run be cleaned
// up. Backends (cloud, sandbox) implement Backend; the suites live in *_test.go.
package e2e

import (
	"context"
	"fmt"
	"testing"
)

// ServiceChange is one change to service/ that a backend commits. Marker is
// unique per commit so that every push really changes the service (and so
// code_version becomes the new head sha, per the monorepo rule).
type ServiceChange struct {
	Marker string
}

// PR identifies an open pull request on a backend. Backends fill what they
// know; the scenario only reads HeadSHA and passes the PR back.
type PR struct {
	Owner, Repo   string
	Number        int
	Branch        string
	HeadSHA       string
	EnvironmentID string
}

// Endpoint is where an environment is served. Host, when set, is sent as the
// Host header (the sandbox routes <id>.<service>.localhost:<port> on a
// loopback address that the resolver may not know).
type Endpoint struct {
	URL  string
	Host string
}

// Backend is what the lifecycle needs from a place that runs previews.
//
// Every method that waits takes a context; none of them waits for the
// environment itself to converge (the scenario does that with the waits in
// wait.go, so both backends share one definition of "serves" and "gone").
type Backend interface {
	// Name is a short label for logs ("cloud", "sandbox").
	Name() string
	// OpenPR creates a branch with change applied to service/ and opens a PR
	// from it; it returns once the PR exists (HeadSHA set).
	OpenPR(ctx context.Context, change ServiceChange) (PR, error)
	// Push commits change on the PR's branch and returns the new head sha.
	Push(ctx context.Context, pr PR, change ServiceChange) (sha string, err error)
	// Close closes the PR (not merged) and deletes its branch.
	Close(ctx context.Context, pr PR) error
	// Endpoint is where the PR's environment is served.
	Endpoint(pr PR) Endpoint
	// Gone returns nil once the environment's stack and function no longer
	// exist, else an error naming what is left. It is polled, never waits.
	Gone(ctx context.Context, pr PR) error
	// Diagnostics is printed when a wait fails: the stack's last run state
	// and log URL (cloud) or the sandbox log. It never fails; problems
	// reading them go into the text.
	Diagnostics(ctx context.Context, pr PR) string
}

// Run is the preview lifecycle: open a PR that changes the service and wait
// until its environment serves the PR head; push and wait for the new head;
// close and wait until the environment is gone.
func Run(ctx context.Context, t testing.TB, b Backend, budget Budget) {
	t.Helper()
	id := UniqueID()
	t.Logf("%s: lifecycle run %s", b.Name(), id)

	pr, err := b.OpenPR(ctx, ServiceChange{Marker: id + "-1"})
	if err != nil {
		t.Fatalf("%s: open PR: %v", b.Name(), err)
	}
	closed := false
	t.Cleanup(func() {
		if closed {
			return
		}
		// A failed step must not leave a PR (and its environment) behind.
		ctx, cancel := context.WithTimeout(context.Background(), budget.CleanupTimeout)
		defer cancel()
		if err := b.Close(ctx, pr); err != nil {
			t.Errorf("%s: cleanup: close PR #%d: %v", b.Name(), pr.Number, err)
		}
	})

	ep := b.Endpoint(pr)
	fail := func(step string, err error, last Response) {
		t.Helper()
		t.Fatalf("%s: %s: %v\nlast HTTP response: %s\n%s", b.Name(), step, err, last, b.Diagnostics(ctx, pr))
	}

	if last, err := WaitServes(ctx, t, ep, pr.HeadSHA, budget.Deploy, budget.Poll); err != nil {
		fail(fmt.Sprintf("PR #%d opened at %s: wait until %s serves it", pr.Number, short(pr.HeadSHA), ep.URL), err, last)
	}

	sha, err := b.Push(ctx, pr, ServiceChange{Marker: id + "-2"})
	if err != nil {
		t.Fatalf("%s: push to PR #%d: %v", b.Name(), pr.Number, err)
	}
	if sha == pr.HeadSHA {
		t.Fatalf("%s: push to PR #%d did not move its head (still %s)", b.Name(), pr.Number, sha)
	}
	pr.HeadSHA = sha
	if last, err := WaitServes(ctx, t, ep, sha, budget.Redeploy, budget.Poll); err != nil {
		fail(fmt.Sprintf("pushed %s to PR #%d: wait until %s serves it", short(sha), pr.Number, ep.URL), err, last)
	}

	if err := b.Close(ctx, pr); err != nil {
		t.Fatalf("%s: close PR #%d: %v", b.Name(), pr.Number, err)
	}
	closed = true
	if last, err := WaitNotServed(ctx, t, ep, budget.Destroy, budget.Poll); err != nil {
		fail(fmt.Sprintf("closed PR #%d: wait until %s is no longer served", pr.Number, ep.URL), err, last)
	}
	if err := WaitUntil(ctx, t, "stack and function destroyed", budget.Destroy, budget.Poll, func() error { return b.Gone(ctx, pr) }); err != nil {
		fail(fmt.Sprintf("closed PR #%d: wait until its stack and function are destroyed", pr.Number), err, Response{})
	}
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

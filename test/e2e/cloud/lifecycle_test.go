package cloud_test

import (
	"context"
	"os"
	"testing"
	"time"

	"preview-environments/test/e2e"
	"preview-environments/test/e2e/cloud"
)

// TestLifecycleCloud runs the preview lifecycle on the real platform: a PR
// in E2E_GITHUB_REPOSITORY, the manager and environment stacks in Spacelift,
// the function and API in AWS.
func TestLifecycleCloud(t *testing.T) {
	e2e.SkipUnlessEnv(t, "cloud lifecycle", cloud.LifecycleVars...)
	cfg, err := cloud.FromOSEnv()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := e2e.StateDir()
	if err != nil {
		t.Fatal(err)
	}
	b := e2e.CloudBudget
	ctx, cancel := context.WithTimeout(context.Background(), b.Deploy+b.Redeploy+2*b.Destroy+5*time.Minute)
	defer cancel()
	backend, err := cloud.New(ctx, cfg, e2e.UniqueID(), dir)
	if err != nil {
		t.Fatal(err)
	}
	e2e.Run(ctx, t, backend, b)
}

// TestCleanupLeftovers closes the PRs and deletes the branches that
// interrupted lifecycle runs recorded in the state directory. It runs only
// with E2E_CLEANUP=1 (make e2e-cleanup).
func TestCleanupLeftovers(t *testing.T) {
	dir, err := e2e.StateDir()
	if err != nil {
		t.Fatal(err)
	}
	states, errs := e2e.LoadStates(dir)
	for _, err := range errs {
		t.Error(err)
	}
	var mine []e2e.State
	for _, st := range states {
		if st.Suite == "lifecycle" && st.Backend == "cloud" {
			mine = append(mine, st)
		}
	}
	if len(mine) == 0 {
		t.Logf("no cloud lifecycle leftovers in %s", dir)
		return
	}
	if !e2e.CleanupRequested() {
		// Outside a sweep, only say what is left: cleaning up is a
		// deliberate act (another run may still be using its branch).
		for _, st := range mine {
			t.Logf("leftover: run %s, %s PR #%d, branch %s (since %s): run make e2e-cleanup", st.RunID, st.Repository, st.PRNumber, st.Branch, st.Created.Format(time.RFC3339))
		}
		return
	}
	e2e.SkipUnlessEnv(t, "cloud lifecycle cleanup", e2e.Env("GITHUB_TOKEN"), e2e.Env("E2E_GITHUB_REPOSITORY"))
	cfg := cloud.Config{GitHubToken: os.Getenv("GITHUB_TOKEN"), Repository: os.Getenv("E2E_GITHUB_REPOSITORY"), GitHubAPIURL: os.Getenv("E2E_GITHUB_API_URL")}
	for _, st := range mine {
		ctx, cancel := context.WithTimeout(context.Background(), e2e.CloudBudget.CleanupTimeout)
		if err := cloud.CleanupState(ctx, cfg, dir, st); err != nil {
			t.Errorf("run %s (%s PR #%d, branch %s): %v", st.RunID, st.Repository, st.PRNumber, st.Branch, err)
		} else {
			t.Logf("run %s: closed %s PR #%d, deleted branch %s", st.RunID, st.Repository, st.PRNumber, st.Branch)
		}
		cancel()
	}
}

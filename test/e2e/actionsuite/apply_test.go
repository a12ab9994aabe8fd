package actionsuite

import (
	"context"
	"os"
	"testing"
	"time"

	"preview-environments/test/e2e"
	"preview-environments/update-file-action/updatefile"
)

// githubCallTimeout bounds the whole suite's API calls: about 20 calls that
// each take well under a second, plus the action's own retries on a 409.
const githubCallTimeout = 3 * time.Minute

// TestApplyAgainstGitHub drives create, update, unchanged, delete and absent
// through updatefile.Apply against the real contents API, and checks each
// result by reading the branch back.
func TestApplyAgainstGitHub(t *testing.T) {
	e2e.SkipUnlessEnv(t, "update-file-action on GitHub", Vars...)
	owner, repo, err := SplitRepository(os.Getenv("E2E_GITHUB_REPOSITORY"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Client(os.Getenv("GITHUB_TOKEN"), os.Getenv("E2E_GITHUB_API_URL"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), githubCallTimeout)
	defer cancel()

	runID := e2e.UniqueID()
	branch := Branch(runID)
	dir, err := e2e.StateDir()
	if err != nil {
		t.Fatal(err)
	}
	st := e2e.State{RunID: runID, Suite: "updatefile", Backend: "cloud", Created: time.Now().UTC(), Repository: owner + "/" + repo, Branch: branch}
	if _, err := e2e.SaveState(dir, st); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), e2e.CloudBudget.CleanupTimeout)
		defer cancel()
		if err := DeleteBranch(ctx, c, owner, repo, branch); err != nil {
			t.Errorf("cleanup: %v (state kept in %s: run make e2e-cleanup)", err, dir)
			return
		}
		if err := e2e.RemoveState(dir, st); err != nil {
			t.Error(err)
		}
	})
	if err := CreateBranch(ctx, c, owner, repo, branch); err != nil {
		t.Fatal(err)
	}

	path := "e2e/update-file-action/" + runID + ".tf"
	steps := []struct {
		name      string
		content   string
		delete    bool
		want      updatefile.Operation
		commits   bool   // a new commit on the branch
		wantFile  string // content read back
		wantExist bool
	}{
		{"create", "a = 1\n", false, updatefile.Created, true, "a = 1\n", true},
		{"update", "a = 2\n", false, updatefile.Updated, true, "a = 2\n", true},
		{"unchanged", "a = 2\n", false, updatefile.Unchanged, false, "a = 2\n", true},
		{"delete", "", true, updatefile.Deleted, true, "", false},
		{"absent", "", true, updatefile.Absent, false, "", false},
	}
	for _, s := range steps {
		// Sequential on purpose: each step starts from the previous one's branch.
		before, err := Head(ctx, c, owner, repo, branch)
		if err != nil {
			t.Fatal(err)
		}
		req := updatefile.Request{Owner: owner, Repo: repo, Path: path, Branch: branch, Message: "e2e " + runID + ": " + s.name, Delete: s.delete}
		if !s.delete {
			req.Content = []byte(s.content)
		}
		res, err := updatefile.Apply(ctx, c, req)
		if err != nil {
			t.Fatalf("%s: Apply: %v", s.name, err)
		}
		if res.Operation != s.want {
			t.Errorf("%s: operation %s, want %s", s.name, res.Operation, s.want)
		}
		after, err := Head(ctx, c, owner, repo, branch)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case s.commits && (after == before || res.CommitSHA != after):
			t.Errorf("%s: branch head %s -> %s, result commit %q: want one new commit that is the result's", s.name, before, after, res.CommitSHA)
		case !s.commits && (after != before || res.CommitSHA != ""):
			t.Errorf("%s: branch head %s -> %s, result commit %q: want no commit", s.name, before, after, res.CommitSHA)
		}
		got, exists, err := FileContent(ctx, c, owner, repo, branch, path)
		if err != nil {
			t.Fatal(err)
		}
		if exists != s.wantExist || got != s.wantFile {
			t.Errorf("%s: file on branch exists=%v content %q, want exists=%v %q", s.name, exists, got, s.wantExist, s.wantFile)
		}
	}
}

// TestCleanupLeftovers deletes branches left by interrupted runs of this
// suite (E2E_CLEANUP=1); otherwise it lists them.
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
		if st.Suite == "updatefile" {
			mine = append(mine, st)
		}
	}
	if len(mine) == 0 {
		t.Logf("no update-file-action leftovers in %s", dir)
		return
	}
	if !e2e.CleanupRequested() {
		for _, st := range mine {
			t.Logf("leftover: run %s, branch %s in %s (since %s): run make e2e-cleanup", st.RunID, st.Branch, st.Repository, st.Created.Format(time.RFC3339))
		}
		return
	}
	e2e.SkipUnlessEnv(t, "update-file-action cleanup", e2e.Env("GITHUB_TOKEN"))
	c, err := Client(os.Getenv("GITHUB_TOKEN"), os.Getenv("E2E_GITHUB_API_URL"))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range mine {
		owner, repo, err := SplitRepository(st.Repository)
		if err != nil {
			t.Errorf("run %s: %v", st.RunID, err)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), e2e.CloudBudget.CleanupTimeout)
		err = DeleteBranch(ctx, c, owner, repo, st.Branch)
		cancel()
		if err == nil {
			err = e2e.RemoveState(dir, st)
		}
		if err != nil {
			t.Errorf("run %s: %v", st.RunID, err)
			continue
		}
		t.Logf("run %s: deleted branch %s in %s", st.RunID, st.Branch, st.Repository)
	}
}

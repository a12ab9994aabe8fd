package actionsuite

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestSplitRepository(t *testing.T) {
	tests := []struct {
		in, owner, repo string
		ok              bool
	}{
		{"acme/scratch", "acme", "scratch", true},
		{"acme", "", "", false},
		{"acme/", "", "", false},
		{"/scratch", "", "", false},
		{"acme/x/y", "", "", false},
	}
	for _, tt := range tests {
		o, r, err := SplitRepository(tt.in)
		if (err == nil) != tt.ok || o != tt.owner || r != tt.repo {
			t.Errorf("SplitRepository(%q) = %q, %q, %v", tt.in, o, r, err)
		}
		if err != nil && !strings.Contains(err.Error(), "E2E_GITHUB_REPOSITORY") {
			t.Errorf("error %v does not name the variable", err)
		}
	}
}

// The suite only ever creates or deletes its own throwaway branches; any
// other name is refused before an API call (the client here points nowhere).
func TestBranchGuard(t *testing.T) {
	c := github.NewClient(nil)
	for _, b := range []string{"main", "e2e-action/../main", "e2e-action/", "e2e-action/a b", "refs/heads/e2e-action/x"} {
		if err := DeleteBranch(context.Background(), c, "acme", "scratch", b); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("DeleteBranch(%q) = %v, want a refusal", b, err)
		}
		if err := CreateBranch(context.Background(), c, "acme", "scratch", b); err == nil || !strings.Contains(err.Error(), "only e2e-action/") {
			t.Errorf("CreateBranch(%q) = %v, want a refusal", b, err)
		}
	}
	if b := Branch("Ab12Cd"); !branchRe.MatchString(b) {
		t.Errorf("Branch(run) = %q does not pass its own guard", b)
	}
}

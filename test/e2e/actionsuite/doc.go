// Package actionsuite runs the update-file-action's core (updatefile.Apply)
// against the real GitHub API in a throwaway branch of the scratch
// repository. Only its tests do anything; this file holds the helpers they
// share with the leftover sweep.
package actionsuite

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/google/go-github/v60/github"

	"preview-environments/test/e2e"
)

// Vars are what the suite needs.
var Vars = []e2e.Var{e2e.Env("GITHUB_TOKEN"), e2e.Env("E2E_GITHUB_REPOSITORY")}

var branchRe = regexp.MustCompile(`^e2e-action/[A-Za-z0-9]{1,32}$`)

// Branch is the throwaway branch of run runID.
func Branch(runID string) string { return "e2e-action/" + runID }

// Client returns a go-github client for token, on GitHub Enterprise when
// apiURL is set.
func Client(token, apiURL string) (*github.Client, error) {
	c := github.NewClient(nil).WithAuthToken(token)
	if apiURL == "" {
		return c, nil
	}
	c, err := c.WithEnterpriseURLs(apiURL, apiURL)
	if err != nil {
		return nil, fmt.Errorf("E2E_GITHUB_API_URL %q: %w", apiURL, err)
	}
	return c, nil
}

// SplitRepository validates owner/repo.
func SplitRepository(s string) (string, string, error) {
	owner, repo, ok := strings.Cut(s, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return "", "", fmt.Errorf("E2E_GITHUB_REPOSITORY %q is not owner/repo", s)
	}
	return owner, repo, nil
}

// CreateBranch makes branch from the default branch's head.
func CreateBranch(ctx context.Context, c *github.Client, owner, repo, branch string) error {
	if !branchRe.MatchString(branch) {
		return fmt.Errorf("branch %q: only e2e-action/<letters and digits> is created", branch)
	}
	r, _, err := c.Repositories.Get(ctx, owner, repo)
	if err != nil {
		return fmt.Errorf("read repository %s/%s: %w", owner, repo, err)
	}
	ref, _, err := c.Git.GetRef(ctx, owner, repo, "heads/"+r.GetDefaultBranch())
	if err != nil {
		return fmt.Errorf("read branch %s: %w", r.GetDefaultBranch(), err)
	}
	if _, _, err := c.Git.CreateRef(ctx, owner, repo, &github.Reference{Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: ref.Object.SHA}}); err != nil {
		return fmt.Errorf("create branch %s in %s/%s: %w", branch, owner, repo, err)
	}
	return nil
}

// DeleteBranch deletes branch; already gone is fine.
func DeleteBranch(ctx context.Context, c *github.Client, owner, repo, branch string) error {
	if !branchRe.MatchString(branch) {
		return fmt.Errorf("refusing to delete branch %q: not an e2e-action/ branch", branch)
	}
	resp, err := c.Git.DeleteRef(ctx, owner, repo, "heads/"+branch)
	if err != nil && !(resp != nil && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusUnprocessableEntity)) {
		return fmt.Errorf("delete branch %s: %w", branch, err)
	}
	return nil
}

// Head is the branch's head commit.
func Head(ctx context.Context, c *github.Client, owner, repo, branch string) (string, error) {
	ref, _, err := c.Git.GetRef(ctx, owner, repo, "heads/"+branch)
	if err != nil {
		return "", fmt.Errorf("read branch %s: %w", branch, err)
	}
	return ref.GetObject().GetSHA(), nil
}

// FileContent reads path on branch; ok is false when it does not exist.
func FileContent(ctx context.Context, c *github.Client, owner, repo, branch, path string) (string, bool, error) {
	fc, _, resp, err := c.Repositories.GetContents(ctx, owner, repo, path, &github.RepositoryContentGetOptions{Ref: branch})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s on %s: %w", path, branch, err)
	}
	if fc == nil {
		return "", false, errors.New("read " + path + ": a directory, not a file")
	}
	s, err := fc.GetContent()
	if err != nil {
		return "", false, fmt.Errorf("decode %s: %w", path, err)
	}
	return s, true, nil
}

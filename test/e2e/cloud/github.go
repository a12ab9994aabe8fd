package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/google/go-github/v60/github"
)

// gitHub does what a contributor does: branch, commit to service/, open a
// PR, push, close, delete the branch.
type gitHub struct {
	c           *github.Client
	owner, repo string
}

func newGitHub(token, repository, apiURL string) (*gitHub, error) {
	c := github.NewClient(nil).WithAuthToken(token)
	if apiURL != "" {
		var err error
		if c, err = c.WithEnterpriseURLs(apiURL, apiURL); err != nil {
			return nil, fmt.Errorf("E2E_GITHUB_API_URL %q: %w", apiURL, err)
		}
	}
	owner, repo, _ := strings.Cut(repository, "/")
	return &gitHub{c: c, owner: owner, repo: repo}, nil
}

var branchRe = regexp.MustCompile(`^e2e/[A-Za-z0-9-]{1,40}$`)

// createBranch makes branch from the default branch's head and returns the
// default branch's name (the PR's base).
func (g *gitHub) createBranch(ctx context.Context, branch string) (string, error) {
	if !branchRe.MatchString(branch) {
		return "", fmt.Errorf("branch %q: only e2e/<letters, digits, hyphens> is created", branch)
	}
	r, _, err := g.c.Repositories.Get(ctx, g.owner, g.repo)
	if err != nil {
		return "", fmt.Errorf("read repository %s/%s: %w", g.owner, g.repo, err)
	}
	base := r.GetDefaultBranch()
	ref, _, err := g.c.Git.GetRef(ctx, g.owner, g.repo, "heads/"+base)
	if err != nil {
		return "", fmt.Errorf("read %s/%s branch %s: %w", g.owner, g.repo, base, err)
	}
	_, _, err = g.c.Git.CreateRef(ctx, g.owner, g.repo, &github.Reference{
		Ref:    github.String("refs/heads/" + branch),
		Object: &github.GitObject{SHA: ref.Object.SHA},
	})
	if err != nil {
		return "", fmt.Errorf("create branch %s in %s/%s: %w", branch, g.owner, g.repo, err)
	}
	return base, nil
}

// writeFile creates or updates path on branch and returns the new commit.
func (g *gitHub) writeFile(ctx context.Context, branch, path, content, message string) (string, error) {
	opts := &github.RepositoryContentFileOptions{
		Message: github.String(message),
		Content: []byte(content),
		Branch:  github.String(branch),
	}
	cur, _, resp, err := g.c.Repositories.GetContents(ctx, g.owner, g.repo, path, &github.RepositoryContentGetOptions{Ref: branch})
	switch {
	case err == nil && cur != nil:
		opts.SHA = cur.SHA
	case resp != nil && resp.StatusCode == http.StatusNotFound:
	default:
		return "", fmt.Errorf("read %s on %s: %w", path, branch, err)
	}
	var res *github.RepositoryContentResponse
	if opts.SHA != nil {
		res, _, err = g.c.Repositories.UpdateFile(ctx, g.owner, g.repo, path, opts)
	} else {
		res, _, err = g.c.Repositories.CreateFile(ctx, g.owner, g.repo, path, opts)
	}
	if err != nil {
		return "", fmt.Errorf("commit %s on %s: %w", path, branch, err)
	}
	return res.Commit.GetSHA(), nil
}

func (g *gitHub) openPR(ctx context.Context, branch, base, title string) (int, error) {
	pr, _, err := g.c.PullRequests.Create(ctx, g.owner, g.repo, &github.NewPullRequest{
		Title: github.String(title),
		Head:  github.String(branch),
		Base:  github.String(base),
		Body:  github.String("Opened by the end-to-end suite (test/e2e); it closes this PR and deletes the branch itself."),
	})
	if err != nil {
		return 0, fmt.Errorf("open PR %s -> %s: %w", branch, base, err)
	}
	return pr.GetNumber(), nil
}

// closePR closes number (if open) and deletes branch (if present); both
// are no-ops when already done, so cleanup can run twice.
func (g *gitHub) closePR(ctx context.Context, number int, branch string) error {
	// Validate before acting: a refused cleanup must not half-happen.
	if branch != "" && !branchRe.MatchString(branch) {
		return fmt.Errorf("refusing to delete branch %q: not an e2e/ branch", branch)
	}
	var errs []error
	if number > 0 {
		pr, _, err := g.c.PullRequests.Get(ctx, g.owner, g.repo, number)
		if err != nil {
			errs = append(errs, fmt.Errorf("read PR #%d: %w", number, err))
		} else if pr.GetState() != "closed" {
			if _, _, err := g.c.PullRequests.Edit(ctx, g.owner, g.repo, number, &github.PullRequest{State: github.String("closed")}); err != nil {
				errs = append(errs, fmt.Errorf("close PR #%d: %w", number, err))
			}
		}
	}
	if branch != "" {
		resp, err := g.c.Git.DeleteRef(ctx, g.owner, g.repo, "heads/"+branch)
		// 422 "Reference does not exist" (GitHub's answer for a deleted
		// branch) and 404 mean it is gone already.
		if err != nil && !(resp != nil && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusUnprocessableEntity)) {
			errs = append(errs, fmt.Errorf("delete branch %s: %w", branch, err))
		}
	}
	return errors.Join(errs...)
}

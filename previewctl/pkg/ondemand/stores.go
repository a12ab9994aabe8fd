package ondemand

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"

	"github.com/google/go-github/v60/github"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/update-file-action/updatefile"
)

// LocalStore writes files into a manager directory on disk, atomically
// (envfile.WriteAtomic), as `render --write` does.
type LocalStore struct{ ManagerDir string }

func (l LocalStore) dir(e envfile.Environment) string {
	return envfile.EnvironmentsDir(l.ManagerDir, e.Service)
}

func (l LocalStore) Where(e envfile.Environment) string {
	return filepath.Join(l.dir(e), envfile.FileName(e))
}

func (l LocalStore) Get(_ context.Context, e envfile.Environment) ([]byte, bool, error) {
	src, err := os.ReadFile(l.Where(e))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	return src, err == nil, err
}

func (l LocalStore) Put(ctx context.Context, e envfile.Environment, _ string) (string, error) {
	before, _, _ := l.Get(ctx, e)
	if _, err := envfile.WriteAtomic(l.dir(e), e); err != nil {
		return "", err
	}
	if before == nil {
		return "created", nil
	}
	return "updated", nil
}

func (l LocalStore) Remove(_ context.Context, e envfile.Environment, _ string) (string, error) {
	if _, err := os.Stat(l.Where(e)); errors.Is(err, fs.ErrNotExist) {
		return string(updatefile.Absent), nil
	}
	if err := envfile.Remove(l.dir(e), e); err != nil {
		return "", err
	}
	return string(updatefile.Deleted), nil
}

// RepoStore reads files through GitHub's contents API and writes them
// through the update-file-action core, the one writer of environment files:
// one commit per change, retried on conflicts with other writers.
type RepoStore struct {
	Client      *github.Client
	Owner, Repo string
	Branch      string // empty: default branch
	// PathPrefix is the manager directory inside the repository ("manager").
	PathPrefix  string
	MaxAttempts int
}

// RepoPath is the file's path inside the manager repository.
func (r RepoStore) RepoPath(e envfile.Environment) string {
	return path.Join(r.PathPrefix, e.Service, "environments", envfile.FileName(e))
}

func (r RepoStore) Where(e envfile.Environment) string {
	return fmt.Sprintf("%s/%s:%s", r.Owner, r.Repo, r.RepoPath(e))
}

func (r RepoStore) Get(ctx context.Context, e envfile.Environment) ([]byte, bool, error) {
	var opts *github.RepositoryContentGetOptions
	if r.Branch != "" {
		opts = &github.RepositoryContentGetOptions{Ref: r.Branch}
	}
	fc, dir, resp, err := r.Client.Repositories.GetContents(ctx, r.Owner, r.Repo, r.RepoPath(e), opts)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return nil, false, nil
		}
		return nil, false, err
	}
	if fc == nil || dir != nil || fc.GetType() != "file" {
		return nil, false, fmt.Errorf("%s is not a regular file", r.RepoPath(e))
	}
	s, err := fc.GetContent()
	if err != nil {
		return nil, false, err
	}
	return []byte(s), true, nil
}

func (r RepoStore) Put(ctx context.Context, e envfile.Environment, message string) (string, error) {
	src, err := envfile.Render(e)
	if err != nil {
		return "", err
	}
	res, err := updatefile.Apply(ctx, r.Client, updatefile.Request{
		Owner: r.Owner, Repo: r.Repo, Path: r.RepoPath(e), Branch: r.Branch,
		Message: message, Content: src, MaxAttempts: r.MaxAttempts,
	})
	if err != nil {
		return "", err
	}
	return describe(res), nil
}

func (r RepoStore) Remove(ctx context.Context, e envfile.Environment, message string) (string, error) {
	res, err := updatefile.Apply(ctx, r.Client, updatefile.Request{
		Owner: r.Owner, Repo: r.Repo, Path: r.RepoPath(e), Branch: r.Branch,
		Message: message, Delete: true, MaxAttempts: r.MaxAttempts,
	})
	if err != nil {
		return "", err
	}
	if res.Operation != updatefile.Deleted && res.Operation != updatefile.Absent {
		return "", fmt.Errorf("unexpected operation %q", res.Operation)
	}
	return describe(res), nil
}

func describe(res updatefile.Result) string {
	if res.CommitSHA == "" {
		return string(res.Operation)
	}
	sha := res.CommitSHA
	if len(sha) > 7 {
		sha = sha[:7]
	}
	return fmt.Sprintf("%s (commit %s, %d attempt(s))", res.Operation, sha, res.Attempts)
}

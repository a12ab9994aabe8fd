package gc

import (
	"context"
	"fmt"
	"path"
	"path/filepath"

	"github.com/google/go-github/v60/github"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/update-file-action/updatefile"
)

// LocalDeleter removes files from a manager directory on disk.
type LocalDeleter struct{ ManagerDir string }

func (l LocalDeleter) Where(e envfile.Environment) string {
	return filepath.Join(envfile.EnvironmentsDir(l.ManagerDir, e.Service), envfile.FileName(e))
}

func (l LocalDeleter) Delete(_ context.Context, e envfile.Environment, _ string) error {
	return envfile.Remove(envfile.EnvironmentsDir(l.ManagerDir, e.Service), e)
}

// RepoDeleter deletes files in the manager repository through the
// update-file-action core, the one writer of environment files: one commit
// per file, retried on conflicts with other writers, "absent" is success.
type RepoDeleter struct {
	Client      *github.Client
	Owner, Repo string
	Branch      string // empty: default branch
	// PathPrefix is the manager directory inside the repository ("manager").
	PathPrefix  string
	MaxAttempts int
}

// RepoPath is the file's path inside the manager repository.
func (r RepoDeleter) RepoPath(e envfile.Environment) string {
	return path.Join(r.PathPrefix, e.Service, "environments", envfile.FileName(e))
}

func (r RepoDeleter) Where(e envfile.Environment) string {
	return fmt.Sprintf("%s/%s:%s", r.Owner, r.Repo, r.RepoPath(e))
}

func (r RepoDeleter) Delete(ctx context.Context, e envfile.Environment, reason string) error {
	res, err := updatefile.Apply(ctx, r.Client, updatefile.Request{
		Owner:       r.Owner,
		Repo:        r.Repo,
		Path:        r.RepoPath(e),
		Branch:      r.Branch,
		Message:     fmt.Sprintf("previewctl gc: remove preview environment %s (%s): %s", e.ID, e.Key(), reason),
		Delete:      true,
		MaxAttempts: r.MaxAttempts,
	})
	if err != nil {
		return err
	}
	if res.Operation != updatefile.Deleted && res.Operation != updatefile.Absent {
		return fmt.Errorf("unexpected operation %q", res.Operation)
	}
	return nil
}

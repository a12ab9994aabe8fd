package githost

import (
	"context"
	"fmt"
	"strings"
)

// Source is the host seen through repository full names ("owner/repo"),
// the shape the Spacelift stand-in's Source interface takes.
type Source struct{ h *Host }

// Source returns the host keyed by "owner/repo".
func (h *Host) Source() Source { return Source{h} }

func splitFullName(full string) (string, string, error) {
	owner, repo, ok := strings.Cut(full, "/")
	if !ok {
		return "", "", fmt.Errorf("repository %q: %w: want owner/repo", full, ErrInvalid)
	}
	return owner, repo, nil
}

// Head returns the commit sha branch points at.
func (s Source) Head(ctx context.Context, repository, branch string) (string, error) {
	owner, repo, err := splitFullName(repository)
	if err != nil {
		return "", err
	}
	return s.h.Head(ctx, owner, repo, branch)
}

// Export writes the files under subdir at ref into dest (absent or empty),
// at their paths from the repository root.
func (s Source) Export(ctx context.Context, repository, ref, subdir, dest string) error {
	owner, repo, err := splitFullName(repository)
	if err != nil {
		return err
	}
	return s.h.Export(ctx, owner, repo, ref, subdir, dest)
}

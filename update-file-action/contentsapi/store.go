// Package contentsapi is a stand-in for the subset of GitHub's REST contents
// API that updatefile.Apply uses. The HTTP layer (Server) owns every GitHub
// rule (sha preconditions, status codes, JSON shapes); storage sits behind the
// small Store interface so the sandbox can back it with real git repositories
// while the tests use the in-memory store.
package contentsapi

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotFound: the repository, branch, ref or file does not exist.
	ErrNotFound = errors.New("not found")
	// ErrStale: the branch head is no longer the parent the change was based on.
	ErrStale = errors.New("branch head moved")
)

// Repository is what GET /repos/{owner}/{repo} needs.
type Repository struct {
	Owner         string
	Name          string
	DefaultBranch string
}

// File is one file at one ref.
type File struct {
	Path    string
	Content []byte
	// SHA is the git blob sha of Content (see BlobSHA).
	SHA string
}

// Signature is a commit author or committer.
type Signature struct {
	Name  string
	Email string
	When  time.Time
}

// Change is one file change: Content nil deletes Path.
type Change struct {
	Path      string
	Content   []byte
	Message   string
	Author    Signature
	Committer Signature
}

// CommitResult describes the commit a Change became.
type CommitResult struct {
	SHA     string
	TreeSHA string
	Parent  string
}

// Store is the storage behind the server. Every method takes the context of
// the HTTP request. A git-CLI implementation maps Head to `git rev-parse`,
// ReadFile to `git cat-file`, and Commit to building a tree with a temporary
// index plus `git update-ref <ref> <new> <parent>` (which is the atomic
// compare-and-swap that yields ErrStale).
type Store interface {
	// Repo returns the repository, or ErrNotFound.
	Repo(ctx context.Context, owner, repo string) (Repository, error)
	// Head returns the commit sha the branch points at, or ErrNotFound for a
	// missing repository or branch.
	Head(ctx context.Context, owner, repo, branch string) (string, error)
	// ReadFile returns the file at ref (a branch name or a commit sha), or
	// ErrNotFound for a missing repository, ref or file.
	ReadFile(ctx context.Context, owner, repo, ref, path string) (File, error)
	// Commit applies c on top of parent and moves branch to the new commit,
	// atomically: if the branch no longer points at parent it changes nothing
	// and returns ErrStale.
	Commit(ctx context.Context, owner, repo, branch, parent string, c Change) (CommitResult, error)
}

// BlobSHA is git's object id for a blob: sha1("blob <len>\x00" + content).
// GitHub's contents API reports exactly this as a file's "sha".
func BlobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return fmt.Sprintf("%x", h.Sum(nil))
}

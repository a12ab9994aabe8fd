package contentsapi

import (
	"context"
	"crypto/sha1"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// MemoryStore is a Store held in memory, safe for concurrent use. Commits are
// content-addressed (sha1 over tree, parent, message and signatures, shaped
// like a git commit object) so shas are stable and distinct, but they are not
// byte-compatible with git's tree encoding.
type MemoryStore struct {
	mu    sync.Mutex
	repos map[string]*memRepo
}

type memRepo struct {
	info     Repository
	branches map[string]string
	commits  map[string]*memCommit
}

type memCommit struct {
	sha, parent, tree string
	files             map[string][]byte
	change            Change
}

// LogEntry is one commit of a branch's history, newest first in Log.
type LogEntry struct {
	SHA     string
	Parent  string
	Path    string
	Deleted bool
	Content []byte
	Message string
}

// NewMemoryStore returns an empty store; add repositories with CreateRepo.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{repos: map[string]*memRepo{}}
}

// GitHub treats owner and repository names case-insensitively.
func repoKey(owner, repo string) string {
	return strings.ToLower(owner) + "/" + strings.ToLower(repo)
}

// CreateRepo adds a repository whose default branch holds one empty root commit.
func (s *MemoryStore) CreateRepo(owner, name, defaultBranch string) error {
	if owner == "" || name == "" || defaultBranch == "" {
		return fmt.Errorf("create repo %q/%q branch %q: owner, name and branch are required", owner, name, defaultBranch)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := repoKey(owner, name)
	if _, ok := s.repos[k]; ok {
		return fmt.Errorf("create repo %s/%s: already exists", owner, name)
	}
	root := newCommit("", map[string][]byte{}, Change{Message: "Initial commit"})
	s.repos[k] = &memRepo{
		info:     Repository{Owner: owner, Name: name, DefaultBranch: defaultBranch},
		branches: map[string]string{defaultBranch: root.sha},
		commits:  map[string]*memCommit{root.sha: root},
	}
	return nil
}

// CreateBranch points a new branch at the head of an existing one.
func (s *MemoryStore) CreateBranch(owner, repo, branch, from string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[repoKey(owner, repo)]
	if !ok {
		return fmt.Errorf("create branch %q in %s/%s: repository: %w", branch, owner, repo, ErrNotFound)
	}
	head, ok := r.branches[from]
	if !ok {
		return fmt.Errorf("create branch %q from %q in %s/%s: %w", branch, from, owner, repo, ErrNotFound)
	}
	r.branches[branch] = head
	return nil
}

// Log returns the history of branch, newest first, without the root commit.
func (s *MemoryStore) Log(owner, repo, branch string) ([]LogEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[repoKey(owner, repo)]
	if !ok {
		return nil, fmt.Errorf("log %s/%s: repository: %w", owner, repo, ErrNotFound)
	}
	sha, ok := r.branches[branch]
	if !ok {
		return nil, fmt.Errorf("log %s/%s branch %q: %w", owner, repo, branch, ErrNotFound)
	}
	var out []LogEntry
	for c := r.commits[sha]; c != nil && c.parent != ""; c = r.commits[c.parent] {
		out = append(out, LogEntry{
			SHA: c.sha, Parent: c.parent, Path: c.change.Path,
			Deleted: c.change.Content == nil, Content: c.change.Content, Message: c.change.Message,
		})
	}
	return out, nil
}

func (s *MemoryStore) repo(owner, repo string) (*memRepo, error) {
	r, ok := s.repos[repoKey(owner, repo)]
	if !ok {
		return nil, fmt.Errorf("repository %s/%s: %w", owner, repo, ErrNotFound)
	}
	return r, nil
}

// Repo implements Store.
func (s *MemoryStore) Repo(_ context.Context, owner, repo string) (Repository, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repo(owner, repo)
	if err != nil {
		return Repository{}, err
	}
	return r.info, nil
}

// Head implements Store.
func (s *MemoryStore) Head(_ context.Context, owner, repo, branch string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repo(owner, repo)
	if err != nil {
		return "", err
	}
	sha, ok := r.branches[branch]
	if !ok {
		return "", fmt.Errorf("branch %q of %s/%s: %w", branch, owner, repo, ErrNotFound)
	}
	return sha, nil
}

// ReadFile implements Store.
func (s *MemoryStore) ReadFile(_ context.Context, owner, repo, ref, path string) (File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repo(owner, repo)
	if err != nil {
		return File{}, err
	}
	sha, ok := r.branches[ref]
	if !ok {
		sha = ref
	}
	c, ok := r.commits[sha]
	if !ok {
		return File{}, fmt.Errorf("ref %q of %s/%s: %w", ref, owner, repo, ErrNotFound)
	}
	content, ok := c.files[path]
	if !ok {
		return File{}, fmt.Errorf("file %q at %q of %s/%s: %w", path, ref, owner, repo, ErrNotFound)
	}
	return File{Path: path, Content: append([]byte(nil), content...), SHA: BlobSHA(content)}, nil
}

// Commit implements Store.
func (s *MemoryStore) Commit(_ context.Context, owner, repo, branch, parent string, c Change) (CommitResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repo(owner, repo)
	if err != nil {
		return CommitResult{}, err
	}
	head, ok := r.branches[branch]
	if !ok {
		return CommitResult{}, fmt.Errorf("branch %q of %s/%s: %w", branch, owner, repo, ErrNotFound)
	}
	if head != parent {
		return CommitResult{}, fmt.Errorf("branch %q is at %s, not %s: %w", branch, head, parent, ErrStale)
	}
	files := make(map[string][]byte, len(r.commits[head].files)+1)
	for p, b := range r.commits[head].files {
		files[p] = b
	}
	if c.Content == nil {
		if _, ok := files[c.Path]; !ok {
			return CommitResult{}, fmt.Errorf("delete %q: %w", c.Path, ErrNotFound)
		}
		delete(files, c.Path)
	} else {
		files[c.Path] = append([]byte(nil), c.Content...)
	}
	nc := newCommit(head, files, c)
	r.commits[nc.sha] = nc
	r.branches[branch] = nc.sha
	return CommitResult{SHA: nc.sha, TreeSHA: nc.tree, Parent: head}, nil
}

func newCommit(parent string, files map[string][]byte, c Change) *memCommit {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	th := sha1.New()
	for _, p := range paths {
		fmt.Fprintf(th, "%s\x00%s\n", p, BlobSHA(files[p]))
	}
	tree := fmt.Sprintf("%x", th.Sum(nil))
	ch := sha1.New()
	fmt.Fprintf(ch, "tree %s\nparent %s\nauthor %s <%s> %d\ncommitter %s <%s> %d\n\n%s",
		tree, parent, c.Author.Name, c.Author.Email, c.Author.When.UnixNano(),
		c.Committer.Name, c.Committer.Email, c.Committer.When.UnixNano(), c.Message)
	return &memCommit{sha: fmt.Sprintf("%x", ch.Sum(nil)), parent: parent, tree: tree, files: files, change: c}
}

package githost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"preview-environments/update-file-action/contentsapi"
)

// fileChange is one path of a commit: content nil deletes it.
type fileChange struct {
	path    string
	content []byte
	mode    string // "" keeps the existing mode, or 100644 for a new file
}

// commitSpec is a commit to build on top of parent.
type commitSpec struct {
	parent    string // "" for a root commit
	changes   []fileChange
	message   string
	author    contentsapi.Signature
	committer contentsapi.Signature
}

func sigEnv(prefix string, s contentsapi.Signature) []string {
	var env []string
	if s.Name != "" {
		env = append(env, "GIT_"+prefix+"_NAME="+s.Name)
	}
	if s.Email != "" {
		env = append(env, "GIT_"+prefix+"_EMAIL="+s.Email)
	}
	if !s.When.IsZero() {
		env = append(env, fmt.Sprintf("GIT_%s_DATE=@%d +0000", prefix, s.When.Unix()))
	}
	return env
}

func (h *Host) sigOrDefault(s contentsapi.Signature) contentsapi.Signature {
	if s.Name == "" {
		s.Name = h.sig.Name
	}
	if s.Email == "" {
		s.Email = h.sig.Email
	}
	if s.When.IsZero() {
		s.When = h.now()
	}
	return s
}

// withIndex runs fn with a private, empty index file, so concurrent commits
// never share git's index (and the bare repository has none).
func (h *Host) withIndex(fn func(env []string) error) error {
	dir, err := os.MkdirTemp(h.tmp, "index-")
	if err != nil {
		return fmt.Errorf("private index: %w", err)
	}
	defer os.RemoveAll(dir)
	return fn([]string{"GIT_INDEX_FILE=" + filepath.Join(dir, "index")})
}

// buildCommit writes the blobs, tree and commit object of spec (nothing is
// reachable until a ref points at it) and returns the commit and tree shas.
func (h *Host) buildCommit(ctx context.Context, r *repoRef, spec commitSpec) (commit, tree string, err error) {
	if len(spec.changes) == 0 {
		return "", "", invalidf("a commit needs at least one file change")
	}
	seen := map[string]bool{}
	for _, c := range spec.changes {
		if err := ValidatePath(c.path); err != nil {
			return "", "", err
		}
		if seen[c.path] {
			return "", "", invalidf("path %q is changed twice in one commit", c.path)
		}
		seen[c.path] = true
	}
	err = h.withIndex(func(env []string) error {
		o := gitOpts{gitDir: r.gitDir, env: env}
		if spec.parent != "" {
			if _, err := h.run(ctx, o, "read-tree", spec.parent); err != nil {
				return fmt.Errorf("read tree of %s: %w", spec.parent, err)
			}
		}
		existing, err := h.indexModes(ctx, o, spec.changes)
		if err != nil {
			return err
		}
		var info bytes.Buffer
		for _, c := range spec.changes {
			if c.content == nil {
				if _, ok := existing[c.path]; !ok {
					return fmt.Errorf("delete %q: %w", c.path, ErrNotFound)
				}
				fmt.Fprintf(&info, "0 %s\t%s\x00", ZeroSHA, c.path)
				continue
			}
			blob, err := h.out(ctx, gitOpts{gitDir: r.gitDir, stdin: bytes.NewReader(c.content)},
				"hash-object", "-w", "--no-filters", "--stdin")
			if err != nil {
				return fmt.Errorf("write blob %q: %w", c.path, err)
			}
			mode := c.mode
			if mode == "" {
				mode = existing[c.path]
			}
			if mode == "" || mode == "040000" {
				mode = "100644"
			}
			fmt.Fprintf(&info, "%s %s\t%s\x00", mode, blob, c.path)
		}
		if _, err := h.run(ctx, gitOpts{gitDir: r.gitDir, env: env, stdin: &info},
			"update-index", "--add", "--remove", "-z", "--index-info"); err != nil {
			return fmt.Errorf("update index: %w", err)
		}
		if tree, err = h.out(ctx, o, "write-tree"); err != nil {
			return fmt.Errorf("write tree: %w", err)
		}
		commit, err = h.commitTree(ctx, r, tree, spec)
		return err
	})
	return commit, tree, err
}

func (h *Host) commitTree(ctx context.Context, r *repoRef, tree string, spec commitSpec) (string, error) {
	args := []string{"commit-tree", tree}
	if spec.parent != "" {
		args = append(args, "-p", spec.parent)
	}
	args = append(args, "-F", "-")
	author := h.sigOrDefault(spec.author)
	committer := h.sigOrDefault(spec.committer)
	env := append(sigEnv("AUTHOR", author), sigEnv("COMMITTER", committer)...)
	sha, err := h.out(ctx, gitOpts{gitDir: r.gitDir, env: env, stdin: strings.NewReader(spec.message)}, args...)
	if err != nil {
		return "", fmt.Errorf("commit tree %s: %w", tree, err)
	}
	return sha, nil
}

// indexModes returns the mode of each changed path that is already in the
// index (exact matches only: a pathspec also matches a directory's files).
func (h *Host) indexModes(ctx context.Context, o gitOpts, changes []fileChange) (map[string]string, error) {
	args := []string{"ls-files", "-s", "-z", "--"}
	for _, c := range changes {
		args = append(args, c.path)
	}
	out, err := h.run(ctx, o, args...)
	if err != nil {
		return nil, fmt.Errorf("list index: %w", err)
	}
	modes := map[string]string{}
	for _, rec := range strings.Split(string(out), "\x00") {
		// "<mode> <sha> <stage>\t<path>"
		meta, path, ok := strings.Cut(rec, "\t")
		if !ok {
			continue
		}
		modes[path] = strings.SplitN(meta, " ", 2)[0]
	}
	return modes, nil
}

// pushInfo describes who moved a ref, for the push event.
type pushInfo struct {
	pusher  string
	message string
}

// updateRef moves refs/heads/<branch> from old ("" or ZeroSHA: must not
// exist) to new with git's own compare-and-swap, then emits the push event
// and, for open pull requests whose head is branch, synchronize events. It
// holds the repository lock so events leave in the order the ref moved.
func (h *Host) updateRef(ctx context.Context, r *repoRef, branch, newSHA, old string, pi pushInfo) error {
	mu := h.lock(r.key)
	mu.Lock()
	defer mu.Unlock()
	return h.updateRefLocked(ctx, r, branch, newSHA, old, pi)
}

func (h *Host) updateRefLocked(ctx context.Context, r *repoRef, branch, newSHA, old string, pi pushInfo) error {
	if old == "" {
		old = ZeroSHA
	}
	if _, err := h.run(ctx, gitOpts{gitDir: r.gitDir}, "update-ref", "refs/heads/"+branch, newSHA, old); err != nil {
		if serr := h.checkHeadLocked(ctx, r, branch, old); serr != nil {
			return serr
		}
		return fmt.Errorf("update branch %q of %s: %w", branch, r.key, err)
	}
	h.afterPushLocked(ctx, r, branch, old, newSHA, pi)
	return nil
}

// checkHeadLocked says whether branch is at old (ZeroSHA: absent): nil, or
// ErrStale if it moved, ErrNotFound if it is gone.
func (h *Host) checkHeadLocked(ctx context.Context, r *repoRef, branch, old string) error {
	cur, err := h.head(ctx, r, branch)
	switch {
	case errors.Is(err, ErrNotFound) && old == ZeroSHA:
		return nil
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("branch %q of %s is gone: %w", branch, r.key, ErrNotFound)
	case err != nil:
		return err
	case cur != old:
		return fmt.Errorf("branch %q of %s is at %s, not %s: %w", branch, r.key, cur, old, ErrStale)
	}
	return nil
}

// commitOnBranch builds spec and moves branch from old to it. The build
// happens under the repository lock, after checking the branch is still at
// old: under contention a stale writer fails in microseconds instead of
// building a commit that cannot land, so racing writers do not slow the
// winner down (git's CAS in update-ref still guards against writers outside
// this process).
func (h *Host) commitOnBranch(ctx context.Context, r *repoRef, branch, old string, spec commitSpec, pi pushInfo) (sha, tree string, err error) {
	if old == "" {
		old = ZeroSHA
	}
	mu := h.lock(r.key)
	mu.Lock()
	defer mu.Unlock()
	if err := h.checkHeadLocked(ctx, r, branch, old); err != nil {
		return "", "", err
	}
	if sha, tree, err = h.buildCommit(ctx, r, spec); err != nil {
		return "", "", fmt.Errorf("commit to %s branch %q: %w", r.key, branch, err)
	}
	if err := h.updateRefLocked(ctx, r, branch, sha, old, pi); err != nil {
		return "", "", err
	}
	return sha, tree, nil
}

// afterPushLocked emits the events of a ref update. A failure to compute
// them must not undo the push, so it is reflected in the events (no files)
// rather than returned: consumers reconcile from state anyway.
func (h *Host) afterPushLocked(ctx context.Context, r *repoRef, branch, before, after string, pi pushInfo) {
	// The ref has moved: a caller that gives up now must not cost the
	// consumers their events.
	ctx = context.WithoutCancel(ctx)
	files, err := h.pushFiles(ctx, r, branch, before, after)
	if err != nil {
		h.log.Error("githost: files of push", "repo", r.key, "branch", branch, "after", after, "err", err)
	}
	if pi.message == "" {
		if pi.message, err = h.out(ctx, gitOpts{gitDir: r.gitDir}, "log", "-1", "--format=%B", after); err != nil {
			h.log.Error("githost: message of push", "repo", r.key, "after", after, "err", err)
		}
	}
	h.ev.emit(Event{
		Type: EventPush, Owner: r.owner, Repo: r.name,
		Push: &PushEvent{Branch: branch, Before: before, After: after, Files: files,
			Pusher: pi.pusher, Message: pi.message, Time: h.now().UTC()},
	})
	h.syncPRsLocked(ctx, r, branch, after)
}

// pushFiles are the paths a push affected.
func (h *Host) pushFiles(ctx context.Context, r *repoRef, branch, before, after string) ([]string, error) {
	if before != ZeroSHA {
		return h.diffNames(ctx, r, before, after)
	}
	if branch != r.def {
		if base, err := h.head(ctx, r, r.def); err == nil {
			if mb, err := h.mergeBase(ctx, r, base, after); err == nil {
				return h.diffNames(ctx, r, mb, after)
			}
		}
	}
	return h.diffNames(ctx, r, "", after)
}

// diffNames lists the paths that differ between two commits; from "" means
// the empty tree (every file of to).
func (h *Host) diffNames(ctx context.Context, r *repoRef, from, to string) ([]string, error) {
	var out []byte
	var err error
	if from == "" {
		out, err = h.run(ctx, gitOpts{gitDir: r.gitDir}, "ls-tree", "-r", "--name-only", "-z", to)
	} else {
		out, err = h.run(ctx, gitOpts{gitDir: r.gitDir}, "diff-tree", "-r", "--name-only", "--no-renames", "-z", from, to)
	}
	if err != nil {
		return nil, fmt.Errorf("changed files %s..%s: %w", from, to, err)
	}
	return splitZ(out), nil
}

func splitZ(b []byte) []string {
	files := []string{}
	for _, p := range strings.Split(string(b), "\x00") {
		if p != "" {
			files = append(files, p)
		}
	}
	sort.Strings(files)
	return files
}

func (h *Host) mergeBase(ctx context.Context, r *repoRef, a, b string) (string, error) {
	mb, err := h.out(ctx, gitOpts{gitDir: r.gitDir}, "merge-base", a, b)
	if exitCode(err) == 1 {
		return "", nil // unrelated histories
	}
	return mb, err
}

// head returns the sha of refs/heads/<branch>, or ErrNotFound. It reads the
// ref files the way git does (a loose ref, which git replaces atomically by
// rename, overrides packed-refs) instead of running a process: every API
// call starts here.
func (h *Host) head(ctx context.Context, r *repoRef, branch string) (string, error) {
	ref := "refs/heads/" + branch
	b, err := os.ReadFile(filepath.Join(r.gitDir, filepath.FromSlash(ref)))
	if err == nil {
		if sha := strings.TrimSpace(string(b)); shaRE.MatchString(sha) {
			return sha, nil
		}
		// Not a plain sha (a symbolic ref): let git resolve it.
		return h.revParseHead(ctx, r, branch)
	}
	if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) && !errors.Is(err, syscall.EISDIR) {
		return "", fmt.Errorf("branch %q of %s: %w", branch, r.key, err)
	}
	packed, err := os.ReadFile(filepath.Join(r.gitDir, "packed-refs"))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("branch %q of %s: %w", branch, r.key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("branch %q of %s: %w", branch, r.key, err)
	}
	for _, line := range strings.Split(string(packed), "\n") {
		if sha, name, ok := strings.Cut(line, " "); ok && name == ref && shaRE.MatchString(sha) {
			return sha, nil
		}
	}
	return "", fmt.Errorf("branch %q of %s: %w", branch, r.key, ErrNotFound)
}

func (h *Host) revParseHead(ctx context.Context, r *repoRef, branch string) (string, error) {
	sha, err := h.out(ctx, gitOpts{gitDir: r.gitDir}, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch+"^{commit}")
	if exitCode(err) == 1 || err == nil && sha == "" {
		return "", fmt.Errorf("branch %q of %s: %w", branch, r.key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("branch %q of %s: %w", branch, r.key, err)
	}
	return sha, nil
}

// CommitFiles commits changes (path -> content; nil content deletes the
// path) to branch of owner/repo and returns the new commit's sha. A missing
// branch is created from baseSHA, or from the default branch's head when
// baseSHA is "". For an existing branch, a non-empty baseSHA is the expected
// head: if the branch moved, nothing changes and the error wraps ErrStale.
func (h *Host) CommitFiles(ctx context.Context, owner, repo, branch, baseSHA string, changes map[string][]byte, message string) (string, error) {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return "", err
	}
	if err := ValidateBranch(branch); err != nil {
		return "", err
	}
	if baseSHA != "" && !shaRE.MatchString(baseSHA) {
		return "", invalidf("base sha %q is not a 40-hex commit sha", baseSHA)
	}
	if strings.TrimSpace(message) == "" {
		return "", invalidf("commit message is empty")
	}
	parent, old := "", ""
	cur, err := h.head(ctx, r, branch)
	switch {
	case err == nil:
		if baseSHA != "" && baseSHA != cur {
			return "", fmt.Errorf("branch %q of %s is at %s, not %s: %w", branch, r.key, cur, baseSHA, ErrStale)
		}
		parent, old = cur, cur
	case errors.Is(err, ErrNotFound):
		parent = baseSHA
		if parent == "" {
			if parent, err = h.head(ctx, r, r.def); err != nil && !errors.Is(err, ErrNotFound) {
				return "", err
			}
		} else if _, err := h.resolve(ctx, r, baseSHA); err != nil {
			return "", err
		}
	default:
		return "", err
	}
	spec := commitSpec{parent: parent, message: message}
	for p, c := range changes {
		spec.changes = append(spec.changes, fileChange{path: p, content: c})
	}
	sort.Slice(spec.changes, func(i, j int) bool { return spec.changes[i].path < spec.changes[j].path })
	sha, _, err := h.commitOnBranch(ctx, r, branch, old, spec, pushInfo{pusher: h.sig.Name, message: message})
	return sha, err
}

// Repo implements contentsapi.Store.
func (h *Host) Repo(ctx context.Context, owner, repo string) (contentsapi.Repository, error) {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return contentsapi.Repository{}, err
	}
	return contentsapi.Repository{Owner: r.owner, Name: r.name, DefaultBranch: r.def}, nil
}

// Head implements contentsapi.Store.
func (h *Host) Head(ctx context.Context, owner, repo, branch string) (string, error) {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return "", err
	}
	if err := ValidateBranch(branch); err != nil {
		// An invalid name cannot exist; the API answers it like a missing branch.
		return "", fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return h.head(ctx, r, branch)
}

// Commit implements contentsapi.Store: one file change on top of parent,
// landed with `git update-ref` compare-and-swap (ErrStale when the branch
// moved), followed by its push event.
func (h *Host) Commit(ctx context.Context, owner, repo, branch, parent string, c contentsapi.Change) (contentsapi.CommitResult, error) {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return contentsapi.CommitResult{}, err
	}
	if err := ValidateBranch(branch); err != nil {
		return contentsapi.CommitResult{}, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if !shaRE.MatchString(parent) {
		return contentsapi.CommitResult{}, invalidf("parent %q is not a 40-hex commit sha", parent)
	}
	spec := commitSpec{
		parent:    parent,
		changes:   []fileChange{{path: c.Path, content: c.Content}},
		message:   c.Message,
		author:    c.Author,
		committer: c.Committer,
	}
	pusher := c.Committer.Name
	if pusher == "" {
		pusher = h.sig.Name
	}
	sha, tree, err := h.commitOnBranch(ctx, r, branch, parent, spec, pushInfo{pusher: pusher, message: c.Message})
	if err != nil {
		return contentsapi.CommitResult{}, err
	}
	return contentsapi.CommitResult{SHA: sha, TreeSHA: tree, Parent: parent}, nil
}

// allBranches lists every branch, whatever its name.
func (h *Host) allBranches(ctx context.Context, r *repoRef) (map[string]string, error) {
	out, err := h.run(ctx, gitOpts{gitDir: r.gitDir}, "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/")
	if err != nil {
		return nil, fmt.Errorf("branches of %s: %w", r.key, err)
	}
	heads := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		sha, ref, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		heads[strings.TrimPrefix(ref, "refs/heads/")] = sha
	}
	return heads, nil
}

// Branches returns every branch of owner/repo and the sha it points at
// (what an event consumer reconciles against after a restart). Branches
// pushed over smart HTTP with names the host refuses are left out, as they
// are from events.
func (h *Host) Branches(ctx context.Context, owner, repo string) (map[string]string, error) {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return nil, err
	}
	heads, err := h.allBranches(ctx, r)
	if err != nil {
		return nil, err
	}
	for b := range heads {
		if ValidateBranch(b) != nil {
			delete(heads, b)
		}
	}
	return heads, nil
}

// now is used by pull requests; commits take their dates from signatures.
func (h *Host) stamp() time.Time { return h.now().UTC().Truncate(time.Second) }

// CreateBranch points a new branch at an existing commit (GitHub's
// POST /git/refs) and emits its push event. An existing branch is ErrExists.
func (h *Host) CreateBranch(ctx context.Context, owner, repo, branch, sha string) error {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return err
	}
	if err := ValidateBranch(branch); err != nil {
		return err
	}
	if !shaRE.MatchString(sha) {
		return invalidf("sha %q is not a 40-hex commit sha", sha)
	}
	if _, err := h.resolve(ctx, r, sha); err != nil {
		return err
	}
	err = h.updateRef(ctx, r, branch, sha, ZeroSHA, pushInfo{pusher: h.sig.Name})
	if errors.Is(err, ErrStale) {
		return fmt.Errorf("branch %q of %s: %w", branch, r.key, ErrExists)
	}
	return err
}

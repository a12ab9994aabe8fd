// Package githost is the sandbox's stand-in for GitHub: real bare git
// repositories on disk (driven through the git CLI), pull requests kept in the
// sandbox's SQLite database, push and pull_request events for in-process
// subscribers, and the HTTP surface the project's real clients use (the
// contents API of update-file-action, the pulls endpoints of go-github, and
// git smart HTTP for people).
//
// Every name that comes from outside (owner, repository, branch, path, ref)
// is validated before it reaches git, and git is always run with explicit
// arguments, never through a shell.
package githost

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"preview-environments/previewctl/pkg/sandbox/state"
	"preview-environments/update-file-action/contentsapi"
)

// ZeroSHA is what GitHub puts in a push event's "before" for a new branch.
const ZeroSHA = "0000000000000000000000000000000000000000"

// DefaultBranch is the default branch of every repository the host creates.
const DefaultBranch = "main"

var (
	// ErrNotFound is contentsapi.ErrNotFound, so the contents server maps it
	// to 404 whichever API it came through.
	ErrNotFound = contentsapi.ErrNotFound
	// ErrStale is contentsapi.ErrStale: the branch moved since the caller
	// read it (the compare-and-swap of `git update-ref NEW OLD` failed).
	ErrStale = contentsapi.ErrStale
	// ErrInvalid wraps every refusal of bad input.
	ErrInvalid = errors.New("invalid input")
	// ErrExists: the pull request (or branch) already exists.
	ErrExists = errors.New("already exists")
)

// Signature identifies who made a commit.
type Signature struct {
	Name  string
	Email string
}

// Host is the GitHub stand-in. It is safe for concurrent use.
type Host struct {
	root    string // <dataDir>/git
	tmp     string // <dataDir>/git-tmp: private index files
	home    string // HOME for git: empty, so no user config applies
	db      *sql.DB
	now     func() time.Time
	sig     Signature
	gitPath string
	log     *slog.Logger

	repoLocks sync.Map // repo key -> *sync.Mutex: orders ref updates and their events
	repos     sync.Map // repo key -> *repoRef: repositories are never deleted, so lookups are cached

	ev events
}

// Option configures New.
type Option func(*Host)

// WithClock replaces time.Now (commit dates, pull request times).
func WithClock(now func() time.Time) Option { return func(h *Host) { h.now = now } }

// WithLogger receives what the host cannot return to a caller: failures
// after a ref already moved (computing event files, recording a PR's new
// head) and git http-backend's stderr.
func WithLogger(l *slog.Logger) Option { return func(h *Host) { h.log = l } }

// WithIdentity sets the author and committer of commits that name none
// (imports, CommitFiles).
func WithIdentity(s Signature) Option { return func(h *Host) { h.sig = s } }

var migrations = []string{
	`CREATE TABLE IF NOT EXISTS githost_repos (
		key            TEXT PRIMARY KEY,
		owner          TEXT NOT NULL,
		name           TEXT NOT NULL,
		default_branch TEXT NOT NULL,
		created_at     TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS githost_pull_requests (
		repo_key   TEXT NOT NULL REFERENCES githost_repos(key),
		number     INTEGER NOT NULL,
		title      TEXT NOT NULL,
		head_ref   TEXT NOT NULL,
		head_sha   TEXT NOT NULL,
		base_ref   TEXT NOT NULL,
		state      TEXT NOT NULL CHECK (state IN ('open', 'closed')),
		merged     INTEGER NOT NULL DEFAULT 0,
		created_at TEXT NOT NULL,
		updated_at TEXT NOT NULL,
		closed_at  TEXT,
		PRIMARY KEY (repo_key, number))`,
	`CREATE INDEX IF NOT EXISTS githost_pull_requests_head ON githost_pull_requests (repo_key, head_ref, state)`,
}

// New opens the host whose repositories live under <dataDir>/git and whose
// pull requests live in db (migrated here under the component "githost").
func New(ctx context.Context, dataDir string, db *sql.DB, opts ...Option) (*Host, error) {
	if dataDir == "" {
		return nil, fmt.Errorf("githost: data directory: %w: empty", ErrInvalid)
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("githost: data directory %q: %w", dataDir, err)
	}
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("githost: the git CLI is required: %w", err)
	}
	h := &Host{
		root:    filepath.Join(abs, "git"),
		tmp:     filepath.Join(abs, "git-tmp"),
		home:    filepath.Join(abs, "git-home"),
		db:      db,
		now:     time.Now,
		sig:     Signature{Name: "sandbox", Email: "sandbox@localhost"},
		gitPath: gitPath,
		log:     slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(h)
	}
	for _, d := range []string{h.root, h.tmp, h.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("githost: %w", err)
		}
	}
	if err := state.Migrate(ctx, db, "githost", migrations); err != nil {
		return nil, fmt.Errorf("githost: %w", err)
	}
	h.ev.init()
	return h, nil
}

// Close stops event delivery; events still queued are dropped (consumers
// reconcile from Branches and ListPRs on their next start).
func (h *Host) Close() error {
	h.ev.closeAll()
	return nil
}

// repoRef is a validated, existing repository.
type repoRef struct {
	key    string // lower(owner)/lower(name)
	owner  string // as created
	name   string // as created
	def    string // default branch
	gitDir string
}

func repoKey(owner, repo string) string {
	return strings.ToLower(owner) + "/" + strings.ToLower(repo)
}

func (h *Host) gitDirOf(owner, repo string) string {
	return filepath.Join(h.root, strings.ToLower(owner), strings.ToLower(repo)+".git")
}

func (h *Host) lock(key string) *sync.Mutex {
	m, _ := h.repoLocks.LoadOrStore(key, &sync.Mutex{})
	return m.(*sync.Mutex)
}

// CreateRepo creates owner/repo (a bare repository whose default branch is
// main, with no commits yet). It is idempotent: an existing repository is
// left as it is.
func (h *Host) CreateRepo(ctx context.Context, owner, repo string) error {
	if err := validateRepo(owner, repo); err != nil {
		return err
	}
	key := repoKey(owner, repo)
	gitDir := h.gitDirOf(owner, repo)
	mu := h.lock(key)
	mu.Lock()
	defer mu.Unlock()
	if _, err := os.Stat(filepath.Join(gitDir, "HEAD")); errors.Is(err, os.ErrNotExist) {
		// Init into a temporary name and rename, so a crash never leaves a
		// half-initialised repository under the real name.
		if err := os.MkdirAll(filepath.Dir(gitDir), 0o755); err != nil {
			return fmt.Errorf("create repo %s: %w", key, err)
		}
		tmp, err := os.MkdirTemp(filepath.Dir(gitDir), ".init-")
		if err != nil {
			return fmt.Errorf("create repo %s: %w", key, err)
		}
		defer os.RemoveAll(tmp)
		if _, err := h.run(ctx, gitOpts{}, "init", "--quiet", "--bare", "--template=", "--initial-branch="+DefaultBranch, tmp); err != nil {
			return fmt.Errorf("create repo %s: %w", key, err)
		}
		// Pushes over smart HTTP are allowed without authentication: the
		// sandbox listens on loopback only.
		if _, err := h.run(ctx, gitOpts{gitDir: tmp}, "config", "http.receivepack", "true"); err != nil {
			return fmt.Errorf("create repo %s: %w", key, err)
		}
		if err := os.Rename(tmp, gitDir); err != nil {
			return fmt.Errorf("create repo %s: %w", key, err)
		}
	} else if err != nil {
		return fmt.Errorf("create repo %s: %w", key, err)
	}
	_, err := h.db.ExecContext(ctx, `INSERT INTO githost_repos (key, owner, name, default_branch, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
		key, owner, repo, DefaultBranch, h.now().UTC().Format(time.RFC3339))
	if err != nil {
		return fmt.Errorf("create repo %s: record: %w", key, err)
	}
	return nil
}

// repo looks up an existing repository.
func (h *Host) repo(ctx context.Context, owner, repo string) (*repoRef, error) {
	if err := validateRepo(owner, repo); err != nil {
		return nil, err
	}
	key := repoKey(owner, repo)
	if r, ok := h.repos.Load(key); ok {
		return r.(*repoRef), nil
	}
	r := &repoRef{key: key, gitDir: h.gitDirOf(owner, repo)}
	err := h.db.QueryRowContext(ctx, `SELECT owner, name, default_branch FROM githost_repos WHERE key = ?`, key).
		Scan(&r.owner, &r.name, &r.def)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("repository %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", key, err)
	}
	h.repos.Store(key, r)
	return r, nil
}

// Repos lists every repository, as contentsapi.Repository values.
func (h *Host) Repos(ctx context.Context) ([]contentsapi.Repository, error) {
	rows, err := h.db.QueryContext(ctx, `SELECT owner, name, default_branch FROM githost_repos ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("list repositories: %w", err)
	}
	defer rows.Close()
	var out []contentsapi.Repository
	for rows.Next() {
		var r contentsapi.Repository
		if err := rows.Scan(&r.Owner, &r.Name, &r.DefaultBranch); err != nil {
			return nil, fmt.Errorf("list repositories: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// GitDir is the path of the bare repository (for read-only tools; write only
// through the host, or events are missed).
func (h *Host) GitDir(ctx context.Context, owner, repo string) (string, error) {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return "", err
	}
	return r.gitDir, nil
}

type gitOpts struct {
	gitDir string
	dir    string
	stdin  io.Reader
	stdout io.Writer // if set, stdout streams here instead of being returned
	env    []string
}

// gitError carries git's exit status and stderr.
type gitError struct {
	args   []string
	code   int
	stderr string
}

func (e *gitError) Error() string {
	return fmt.Sprintf("git %s: exit %d: %s", strings.Join(e.args, " "), e.code, strings.TrimSpace(e.stderr))
}

func exitCode(err error) int {
	var ge *gitError
	if errors.As(err, &ge) {
		return ge.code
	}
	return -1
}

// baseEnv is the whole environment git sees: nothing from the caller's
// environment but PATH, so neither the user's config nor a stray GIT_DIR
// can change what it does.
func (h *Host) baseEnv() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + h.home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_LITERAL_PATHSPECS=1",
		"LC_ALL=C",
		"TZ=UTC",
		"GIT_AUTHOR_NAME=" + h.sig.Name,
		"GIT_AUTHOR_EMAIL=" + h.sig.Email,
		"GIT_COMMITTER_NAME=" + h.sig.Name,
		"GIT_COMMITTER_EMAIL=" + h.sig.Email,
	}
}

func (h *Host) run(ctx context.Context, o gitOpts, args ...string) ([]byte, error) {
	full := args
	if o.gitDir != "" {
		full = append([]string{"--git-dir=" + o.gitDir}, args...)
	}
	cmd := exec.CommandContext(ctx, h.gitPath, full...)
	cmd.Env = append(h.baseEnv(), o.env...)
	cmd.Dir = o.dir
	if cmd.Dir == "" {
		cmd.Dir = h.home
	}
	cmd.Stdin = o.stdin
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	if o.stdout != nil {
		cmd.Stdout = o.stdout
	}
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("git %s: %w", args[0], ctx.Err())
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.Bytes(), &gitError{args: args, code: ee.ExitCode(), stderr: errb.String()}
		}
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	return out.Bytes(), nil
}

func (h *Host) out(ctx context.Context, o gitOpts, args ...string) (string, error) {
	b, err := h.run(ctx, o, args...)
	return strings.TrimSpace(string(b)), err
}

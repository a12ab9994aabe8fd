// Package sandbox is the e2e.Backend on the embedded sandbox: the whole
// platform (git host, CI emulation, Spacelift stand-in, data plane) runs in
// the test process on a free loopback port, so the lifecycle exercises the
// same policies, environment files and infra/ HCL as production, with only
// GitHub, Spacelift and AWS swapped for their stand-ins.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"preview-environments/previewctl/pkg/envfile"
	sbx "preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/githost"
	"preview-environments/previewctl/pkg/sandbox/platform"
	"preview-environments/previewctl/pkg/sandbox/spacelift"
	"preview-environments/test/e2e"
)

// StartTimeout bounds Open until the platform is ready: importing the
// monorepo into the git host takes seconds, and building latest.zip is a
// `go build` of bootstrap, ~1 min on a cold build cache of a loaded 2-core
// machine; 3 min leaves room for both.
const StartTimeout = 3 * time.Minute

// Tail lengths of the diagnostics: enough to show the failing step and its
// context, short enough that a failure stays readable in a test log.
const (
	diagCILines   = 40
	diagRuns      = 4
	diagRunLines  = 25
	diagEvals     = 8
	diagLogLines  = 20
	diagTimeout   = 10 * time.Second
	goneGetTimout = 5 * time.Second
)

// ChangeFunc is what one commit writes for a marker. key is stable for a PR
// (its first marker) so that a push rewrites the PR's own files; both are
// valid markers (see ValidMarker).
type ChangeFunc func(key, marker string) map[string][]byte

// MarkerFile changes service/ harmlessly: service/e2e/<key>.txt holds the
// marker. Any change under service/ makes code_version the PR head sha.
func MarkerFile(key, marker string) map[string][]byte {
	return map[string][]byte{"service/e2e/" + key + ".txt": []byte(marker + "\n")}
}

// Config configures a Backend.
type Config struct {
	// DataDir holds the sandbox's state; a fresh directory per backend.
	DataDir string
	// RepoRoot is the monorepo imported as the default branch; "" finds
	// go.work above the working directory.
	RepoRoot string
	// RIEPath is aws-lambda-rie; "" looks it up on PATH.
	RIEPath string
	// Change is what each commit writes; nil means MarkerFile.
	Change ChangeFunc
	// WaitTimeout is how long the CI emulation waits for a URL before it
	// marks a preview failed; keep it at least the scenario's Deploy budget,
	// or the CI gives up on a deploy the scenario would still accept.
	WaitTimeout time.Duration
	// Progress receives the platform's start-up lines (nil discards).
	Progress io.Writer
}

// Backend implements e2e.Backend on an in-process platform.
type Backend struct {
	p      *platform.Platform
	tmp    string // scratch space inside the data directory
	change ChangeFunc
	logs   *ring
	cancel context.CancelFunc
	served chan error

	mu    sync.Mutex
	heads map[int]string // PR number -> the head sha this backend last pushed
}

var _ e2e.Backend = (*Backend)(nil)

// ErrNoRIE says the emulator is missing; tests turn it into "run make tools".
var ErrNoRIE = errors.New("aws-lambda-rie not found on PATH: run make tools (make puts bin/ on PATH)")

// Open starts the platform on 127.0.0.1:0 and returns once it is ready
// (latest.zip built, the HTTP endpoints answering). Shutdown stops it.
func Open(ctx context.Context, cfg Config) (_ *Backend, err error) {
	if cfg.DataDir == "" {
		return nil, errors.New("sandbox backend: DataDir is empty")
	}
	if cfg.RIEPath == "" {
		if cfg.RIEPath, err = exec.LookPath("aws-lambda-rie"); err != nil {
			return nil, ErrNoRIE
		}
	}
	if cfg.RepoRoot == "" {
		if cfg.RepoRoot, err = RepoRoot(); err != nil {
			return nil, err
		}
	}
	if cfg.Change == nil {
		cfg.Change = MarkerFile
	}
	if cfg.WaitTimeout <= 0 {
		cfg.WaitTimeout = e2e.SandboxBudget.Deploy
	}
	logs := newRing(200)
	p, err := platform.Open(ctx, platform.Config{
		Sandbox:     sbx.Config{Addr: "127.0.0.1:0", DataDir: cfg.DataDir, RIEPath: cfg.RIEPath},
		RepoRoot:    cfg.RepoRoot,
		WaitTimeout: cfg.WaitTimeout,
		Progress:    cfg.Progress,
		// Warnings and errors only: the CI steps and runs have logs of
		// their own, which Diagnostics reads.
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox backend: open platform: %w", err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b := &Backend{p: p, tmp: filepath.Join(cfg.DataDir, "tmp"), change: cfg.Change, logs: logs, cancel: cancel, served: make(chan error, 1), heads: map[int]string{}}
	go func() { b.served <- p.Serve(sctx) }()
	defer func() {
		if err != nil {
			b.Shutdown()
		}
	}()
	wctx, wcancel := context.WithTimeout(ctx, StartTimeout)
	defer wcancel()
	select {
	case <-p.Ready():
		return b, nil
	case err := <-b.served:
		b.served <- err // Shutdown reads it again
		return nil, fmt.Errorf("sandbox backend: serve: %w", err)
	case <-wctx.Done():
		return nil, fmt.Errorf("sandbox backend: not ready within %s: %w", StartTimeout, wctx.Err())
	}
}

// Shutdown stops the platform: serving, runs, emulators. It is safe to
// call more than once. (Close is the Backend method that closes a PR.)
func (b *Backend) Shutdown() error {
	if b.cancel == nil {
		return nil
	}
	b.cancel()
	b.cancel = nil
	serr := <-b.served
	if errors.Is(serr, context.Canceled) || errors.Is(serr, http.ErrServerClosed) {
		serr = nil
	}
	return errors.Join(serr, b.p.Close())
}

// Platform is the running platform, for tests that look inside.
func (b *Backend) Platform() *platform.Platform { return b.p }

// Name implements e2e.Backend.
func (b *Backend) Name() string { return "sandbox" }

var markerRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,62}$`)

// ValidMarker reports whether a marker may name a branch and a file: ASCII
// letters, digits and dashes, 1 to 63 of them, not starting with a dash.
func ValidMarker(m string) error {
	if !markerRE.MatchString(m) {
		return fmt.Errorf("marker %q: want 1-63 ASCII letters, digits or dashes, not starting with a dash", m)
	}
	return nil
}

func branchFor(marker string) string { return "e2e/" + marker }

// keyOf is the PR's first marker, recovered from its branch.
func keyOf(pr e2e.PR) (string, error) {
	key, ok := strings.CutPrefix(pr.Branch, "e2e/")
	if !ok {
		return "", fmt.Errorf("PR #%d: branch %q was not made by this backend", pr.Number, pr.Branch)
	}
	return key, ValidMarker(key)
}

// OpenPR implements e2e.Backend: a branch e2e/<marker> with the change,
// and a PR from it into the default branch.
func (b *Backend) OpenPR(ctx context.Context, change e2e.ServiceChange) (e2e.PR, error) {
	if err := ValidMarker(change.Marker); err != nil {
		return e2e.PR{}, fmt.Errorf("open PR: %w", err)
	}
	files := b.change(change.Marker, change.Marker)
	gpr, err := b.p.OpenPR(ctx, branchFor(change.Marker), "e2e "+change.Marker+": preview lifecycle", files)
	if err != nil {
		return e2e.PR{}, err
	}
	b.setHead(gpr.Number, gpr.HeadSHA)
	return e2e.PR{Owner: gpr.Owner, Repo: gpr.Repo, Number: gpr.Number, Branch: gpr.HeadRef, HeadSHA: gpr.HeadSHA,
		EnvironmentID: envfile.ID(gpr.Owner, gpr.Repo, gpr.Number)}, nil
}

// Push implements e2e.Backend.
func (b *Backend) Push(ctx context.Context, pr e2e.PR, change e2e.ServiceChange) (string, error) {
	if err := ValidMarker(change.Marker); err != nil {
		return "", fmt.Errorf("push to PR #%d: %w", pr.Number, err)
	}
	key, err := keyOf(pr)
	if err != nil {
		return "", fmt.Errorf("push: %w", err)
	}
	gpr, err := b.p.PushPR(ctx, pr.Number, "e2e: change the service again ("+change.Marker+")", b.change(key, change.Marker))
	if err != nil {
		return "", err
	}
	b.setHead(gpr.Number, gpr.HeadSHA)
	return gpr.HeadSHA, nil
}

// Close implements e2e.Backend: it closes the PR, then deletes its branch
// the way a person does, with `git push --delete` over the git host's smart
// HTTP. Both are no-ops when already done.
func (b *Backend) Close(ctx context.Context, pr e2e.PR) error {
	if _, err := b.p.ClosePR(ctx, pr.Number); err != nil {
		return err
	}
	if _, err := keyOf(pr); err != nil {
		return fmt.Errorf("close: %w", err) // never hand git a name this backend did not make
	}
	heads, err := b.p.Git.Branches(ctx, pr.Owner, pr.Repo)
	if err != nil {
		return fmt.Errorf("close PR #%d: list branches: %w", pr.Number, err)
	}
	if _, ok := heads[pr.Branch]; !ok {
		return nil
	}
	return b.deleteBranch(ctx, pr.Owner, pr.Repo, pr.Branch)
}

// deleteBranch pushes a deletion from an empty repository: deleting a ref
// sends no objects, so nothing needs to be cloned first.
func (b *Backend) deleteBranch(ctx context.Context, owner, repo, branch string) error {
	tmp, err := os.MkdirTemp(b.tmp, "delete-branch-*")
	if err != nil {
		return fmt.Errorf("delete branch %s: %w", branch, err)
	}
	defer os.RemoveAll(tmp)
	url := b.p.SB.URL() + githost.GitPrefix + owner + "/" + repo + ".git"
	for _, args := range [][]string{
		{"init", "--quiet", "--bare", tmp},
		{"-C", tmp, "push", "--quiet", url, ":refs/heads/" + branch},
	} {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("delete branch %s: git %s: %w: %s", branch, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// Endpoint implements e2e.Backend: the sandbox's listener, with the
// environment's gateway host as the Host header (Go's resolver does not map
// *.localhost to loopback as browsers and curl do).
func (b *Backend) Endpoint(pr e2e.PR) e2e.Endpoint {
	return e2e.Endpoint{URL: b.p.SB.URL() + "/", Host: b.gatewayHost(pr.EnvironmentID)}
}

func (b *Backend) gatewayHost(id string) string {
	_, port, _ := net.SplitHostPort(b.p.SB.Addr())
	return id + "." + b.p.Config().Service + ".localhost:" + port
}

// StackID is the environment's stack: the template names it
// "<service>-<environment id>" and Spacelift slugs names into IDs.
func (b *Backend) StackID(environmentID string) string {
	return spacelift.Slug(b.p.Config().Service + "-" + environmentID)
}

// Gone implements e2e.Backend: the Spacelift stand-in has no stack for the
// environment, the data plane does not list it, and the gateway answers 404
// for its host.
func (b *Backend) Gone(ctx context.Context, pr e2e.PR) error {
	var errs []error
	id := pr.EnvironmentID
	if s, err := b.p.Engine.Stack(ctx, b.StackID(id)); err == nil {
		errs = append(errs, fmt.Errorf("spacelift stack %s still exists (state %s)", s.ID, s.State))
	} else if !errors.Is(err, spacelift.ErrNotFound) {
		errs = append(errs, fmt.Errorf("read spacelift stack %s: %w", b.StackID(id), err))
	}
	// Every other stack of the environment (its data stack) goes too, after
	// the service stack.
	if stacks, err := b.p.Engine.Stacks(ctx); err != nil {
		errs = append(errs, fmt.Errorf("list spacelift stacks: %w", err))
	} else {
		for _, s := range stacks {
			if s.EnvironmentID == id && s.ID != b.StackID(id) {
				errs = append(errs, fmt.Errorf("spacelift stack %s (%s) still exists (state %s)", s.ID, s.Role, s.State))
			}
		}
	}
	if e, ok := b.p.SB.Environment(id); ok {
		errs = append(errs, fmt.Errorf("data plane still has environment %s (function at version %s)", id, e.Version))
	}
	if code, err := b.gatewayStatus(ctx, id); err != nil {
		errs = append(errs, fmt.Errorf("gateway for %s: %w", b.gatewayHost(id), err))
	} else if code != http.StatusNotFound {
		errs = append(errs, fmt.Errorf("gateway still answers %d for %s, want 404", code, b.gatewayHost(id)))
	}
	return errors.Join(errs...)
}

func (b *Backend) gatewayStatus(ctx context.Context, id string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, goneGetTimout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.p.SB.URL()+"/", nil)
	if err != nil {
		return 0, err
	}
	req.Host = b.gatewayHost(id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func (b *Backend) setHead(n int, sha string) {
	b.mu.Lock()
	b.heads[n] = sha
	b.mu.Unlock()
}

// FailFast returns a context that is canceled, with the reason as its
// cause, as soon as the CI emulation marks the preview of a PR this backend
// opened failed at the head it last pushed: a failed build or deploy never
// recovers on its own, so the scenario's waits stop at once rather than at
// the end of their budget. Diagnostics prints the cause.
func (b *Backend) FailFast(ctx context.Context, poll time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := b.failed(ctx); err != nil {
				cancel(err)
				return
			}
		}
	}()
	return ctx, func() { cancel(nil) }
}

// failed returns why a preview failed at the head this backend last pushed.
func (b *Backend) failed(ctx context.Context) error {
	pvs, err := b.p.Previews(ctx)
	if err != nil {
		return nil // a read error is not a failed preview; the next poll retries
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, pv := range pvs {
		if head, ok := b.heads[pv.Number]; ok && pv.State == platform.PreviewFailed && pv.HeadSHA == head {
			return fmt.Errorf("CI marked the preview of PR #%d at %s failed: %s", pv.Number, pv.HeadSHA, pv.Comment)
		}
	}
	return nil
}

// RepoRoot finds the monorepo: the directory holding go.work, from the
// working directory up.
func RepoRoot() (string, error) {
	dir, err := filepath.Abs(".")
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("sandbox backend: go.work not found above the working directory (set Config.RepoRoot)")
		}
		dir = parent
	}
}

// Package ci runs the sandbox's CI workflows as Go code: package.yml (build
// the service's artifact at a commit and upload it to the bucket) and
// preview.yml (render a PR's environment file, write it through the
// contents API as update-file-action does, wait for the environment's URL
// to serve the PR head, report the preview's state). It keeps the preview
// records and each PR's CI log in the sandbox's SQLite store.
//
// The CI steps reach the rest of the sandbox only through Deps: the git host
// (Git), the contents API (Contents), the artifact build and bucket
// (Artifacts), the environment URLs and an HTTP client that reaches them,
// the store and a clock. The platform (previewctl/pkg/sandbox/platform)
// passes the real ones; the tests pass fakes.
package ci

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"preview-environments/previewctl/pkg/sandbox/githost"
	"preview-environments/previewctl/pkg/sandbox/state"
	"preview-environments/service/artifact"
	"preview-environments/update-file-action/updatefile"
)

// Git is what the workflows read from the git host (*githost.Host).
type Git interface {
	// Export writes subdir of ref under destDir, keeping repository paths
	// (actions/checkout with a sparse checkout).
	Export(ctx context.Context, owner, repo, ref, subdir, destDir string) error
	// Head is a branch's head commit.
	Head(ctx context.Context, owner, repo, branch string) (string, error)
	// ListPRs lists PRs in a state ("open", "closed" or "all").
	ListPRs(ctx context.Context, owner, repo, state string) ([]githost.PR, error)
	// ChangedFiles are the paths a PR's head changes against its base.
	ChangedFiles(ctx context.Context, owner, repo, baseRef, headSHA string) ([]string, error)
}

// Contents is update-file-action: one file written or deleted on a branch
// through the contents API, retrying on conflicts (GitHubContents).
type Contents interface {
	Apply(ctx context.Context, req updatefile.Request) (updatefile.Result, error)
}

// Artifacts is package.yml's build and the artifact bucket (S3Artifacts).
type Artifacts interface {
	// Build compiles the service module in opts.SourceDir and zips it.
	Build(ctx context.Context, opts artifact.BuildOptions) (*artifact.Artifact, error)
	// Upload puts zip at key unless identical bytes are there.
	Upload(ctx context.Context, key string, zip []byte) (artifact.UploadResult, error)
	// Stat returns nil when key is in the bucket.
	Stat(ctx context.Context, key string) error
}

// Deps is what the CI steps use of the sandbox around them.
type Deps struct {
	Git       Git
	Contents  Contents
	Artifacts Artifacts
	// EnvironmentURL is where an environment answers (with a trailing
	// slash); HTTP is the client that reaches it.
	EnvironmentURL func(id string) string
	HTTP           *http.Client
	// DB holds the preview records and the CI logs (tables platform_*).
	DB *sql.DB
	// Ready gates the jobs: they start once it is closed (latest.zip exists
	// and the HTTP endpoints answer). nil starts them at once.
	Ready <-chan struct{}
	// Now stamps the environment files, preview records and log lines
	// (nil is time.Now). Durations in the log are measured on the real clock.
	Now func() time.Time
	// Progress receives the start-up lines (nil discards); Log the rest.
	Progress io.Writer
	Log      *slog.Logger
}

// Config says which repository and service the workflows run for.
type Config struct {
	Owner, Repo, Service string
	// Branch is the default branch: environment files are written to it
	// and latest.zip is built from it.
	Branch string
	// Arch is the architecture artifacts are built for.
	Arch string
	// TTL of rendered environments.
	TTL time.Duration
	// WaitTimeout bounds how long a preview waits for its URL to serve the
	// PR head (and a destroy for it to answer 404).
	WaitTimeout time.Duration
	// TempDir holds the checkouts the steps make (it must exist).
	TempDir string
}

// CI runs the workflows for a repository's git host events.
type CI struct {
	cfg  Config
	deps Deps

	mu      sync.Mutex
	jobs    map[int]*job // per PR: GitHub's concurrency group with cancel-in-progress
	wg      sync.WaitGroup
	closing bool // Wait has begun: events start nothing more
}

type job struct {
	mu     sync.Mutex
	cancel context.CancelCauseFunc
}

// pollInterval is how often the wait steps ask the environment's URL.
const pollInterval = 50 * time.Millisecond

// errSuperseded is why a job is canceled when a newer event for its PR
// arrives; any other cancellation is the sandbox stopping.
var errSuperseded = errors.New("a newer event for this PR took over")

// canceled says why a step's context ended, for the PR's CI log.
func canceled(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), errSuperseded) {
		return errSuperseded.Error()
	}
	return "the sandbox is stopping; the next start resumes it"
}

// New creates the CI's tables if needed.
func New(ctx context.Context, cfg Config, deps Deps) (*CI, error) {
	if deps.Git == nil || deps.Contents == nil || deps.Artifacts == nil || deps.EnvironmentURL == nil || deps.DB == nil {
		return nil, errors.New("ci: Git, Contents, Artifacts, EnvironmentURL and DB are required")
	}
	if deps.HTTP == nil {
		deps.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if deps.Ready == nil {
		ready := make(chan struct{})
		close(ready)
		deps.Ready = ready
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Progress == nil {
		deps.Progress = io.Discard
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	// The component keeps the name it had when the platform owned these
	// tables: existing data directories are migrated already.
	if err := state.Migrate(ctx, deps.DB, "platform", migrations); err != nil {
		return nil, err
	}
	return &CI{cfg: cfg, deps: deps, jobs: map[int]*job{}}, nil
}

// Wait stops new jobs and waits for those running (their context ends
// with the one Handle or Reconcile was given).
func (c *CI) Wait() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.wg.Wait()
}

// spawn runs fn on a goroutine that Wait waits for, unless Wait has begun
// (a WaitGroup must not grow while it is waited on).
func (c *CI) spawn(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn()
	}()
}

// Handle runs what the workflows would run for a git host event: a push to
// the default branch that touches service/ rebuilds latest.zip; a PR opened
// or pushed to is previewed, a closed one destroyed. Events of other
// repositories are ignored. The jobs run in the background until ctx ends.
func (c *CI) Handle(ctx context.Context, ev githost.Event) {
	if ev.Owner != c.cfg.Owner || ev.Repo != c.cfg.Repo {
		return
	}
	switch {
	case ev.Type == githost.EventPush && ev.Push != nil && ev.Push.Branch == c.cfg.Branch && touches(ev.Push.Files, "service/"):
		// package.yml on the default branch: refresh latest.zip.
		c.spawn(func() {
			if err := c.buildLatest(ctx, ev.Push.After); err != nil && ctx.Err() == nil {
				c.deps.Log.Error("build latest", "err", err)
			}
		})
	case ev.Type == githost.EventPullRequest && ev.PullRequest != nil:
		pr := ev.PullRequest.PR
		files := ev.PullRequest.Files
		switch ev.PullRequest.Action {
		case githost.ActionOpened, githost.ActionSynchronize:
			c.run(ctx, pr.Number, func(ctx context.Context) { c.preview(ctx, pr, files) })
		case githost.ActionClosed:
			c.run(ctx, pr.Number, func(ctx context.Context) { c.destroy(ctx, pr) })
		}
	}
}

// run serializes jobs per PR and cancels the one in progress, as
// preview.yml's `concurrency: {group: preview-<pr>, cancel-in-progress: true}`.
func (c *CI) run(ctx context.Context, number int, fn func(context.Context)) {
	c.mu.Lock()
	j, ok := c.jobs[number]
	if !ok {
		j = &job{}
		c.jobs[number] = j
	}
	c.mu.Unlock()
	c.spawn(func() {
		c.mu.Lock()
		if j.cancel != nil {
			j.cancel(errSuperseded)
		}
		jctx, cancel := context.WithCancelCause(ctx)
		j.cancel = cancel
		c.mu.Unlock()
		j.mu.Lock()
		defer j.mu.Unlock()
		defer cancel(nil)
		// Jobs start once latest.zip exists and the HTTP endpoints answer.
		select {
		case <-c.deps.Ready:
		case <-jctx.Done():
			return
		}
		fn(jctx)
	})
}

func touches(files []string, prefix string) bool {
	for _, f := range files {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-github/v60/github"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox/githost"
	"preview-environments/previewctl/pkg/sandbox/state"
	"preview-environments/previewctl/pkg/waitfor"
	"preview-environments/service/artifact"
	"preview-environments/update-file-action/updatefile"
)

// Preview states, as the PR's deployment status and sticky comment show them.
const (
	PreviewBuilding   = "building"
	PreviewRendering  = "rendering"
	PreviewDeploying  = "deploying"
	PreviewLive       = "live"
	PreviewFailed     = "failed"
	PreviewDestroying = "destroying"
	PreviewDestroyed  = "destroyed"
)

var ciMigrations = []string{
	`CREATE TABLE platform_previews (
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		number INTEGER NOT NULL,
		environment_id TEXT NOT NULL,
		state TEXT NOT NULL,
		version TEXT NOT NULL DEFAULT '',
		head_sha TEXT NOT NULL DEFAULT '',
		url TEXT NOT NULL DEFAULT '',
		comment TEXT NOT NULL DEFAULT '',
		updated_at INTEGER NOT NULL,
		PRIMARY KEY (owner, repo, number)
	);
	CREATE TABLE platform_ci_log (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		number INTEGER NOT NULL,
		at INTEGER NOT NULL,
		line TEXT NOT NULL
	);`,
}

// Preview is a PR's preview as its deployment status and sticky comment
// describe it.
type Preview struct {
	Owner         string    `json:"owner"`
	Repo          string    `json:"repo"`
	Number        int       `json:"number"`
	EnvironmentID string    `json:"environment_id"`
	State         string    `json:"state"`
	Version       string    `json:"version"`
	HeadSHA       string    `json:"head_sha"`
	URL           string    `json:"url"`
	Comment       string    `json:"comment"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// CILine is one line of the CI emulation's log for a PR.
type CILine struct {
	At   time.Time `json:"at"`
	Line string    `json:"line"`
}

type ci struct {
	p    *Platform
	gh   *github.Client
	s3   *s3.Client
	db   *sql.DB
	http *http.Client

	mu      sync.Mutex
	jobs    map[int]*job // per PR: GitHub's concurrency group with cancel-in-progress
	wg      sync.WaitGroup
	closing bool // wait has begun: events start nothing more
}

type job struct {
	mu     sync.Mutex
	cancel context.CancelCauseFunc
}

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

func newCI(ctx context.Context, p *Platform, gh *github.Client, s3c *s3.Client) (*ci, error) {
	if err := state.Migrate(ctx, p.SB.DB(), "platform", ciMigrations); err != nil {
		return nil, err
	}
	return &ci{p: p, gh: gh, s3: s3c, db: p.SB.DB(), http: LocalhostClient(p.SB.Addr()), jobs: map[int]*job{}}, nil
}

// LocalhostClient is an HTTP client that reaches <anything>.localhost on
// the sandbox's address, as browsers and curl resolve *.localhost to
// loopback; Go's resolver does not.
func LocalhostClient(addr string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(a)
		if err == nil && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
			_, sbPort, _ := net.SplitHostPort(addr)
			if port == sbPort {
				a = addr
			}
		}
		return d.DialContext(ctx, network, a)
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func (c *ci) wait() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.wg.Wait()
}

// spawn runs fn on a goroutine that wait waits for, unless wait has begun
// (a WaitGroup must not grow while it is waited on).
func (c *ci) spawn(fn func()) {
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

func (c *ci) logf(ctx context.Context, number int, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	_, err := c.db.ExecContext(context.WithoutCancel(ctx), `INSERT INTO platform_ci_log (owner, repo, number, at, line) VALUES (?,?,?,?,?)`,
		c.p.cfg.Owner, c.p.cfg.Repo, number, time.Now().UnixMilli(), line)
	if err != nil {
		c.p.cfg.Log.Warn("ci log", "err", err)
	}
	c.p.cfg.Log.Info("ci", "pr", number, "line", line)
}

// handle runs what the workflows would run for a git host event.
func (c *ci) handle(ctx context.Context, ev githost.Event) {
	if ev.Owner != c.p.cfg.Owner || ev.Repo != c.p.cfg.Repo {
		return
	}
	switch {
	case ev.Type == githost.EventPush && ev.Push != nil && ev.Push.Branch == DefaultBranch && touches(ev.Push.Files, "service/"):
		// package.yml on the default branch: refresh latest.zip.
		c.spawn(func() {
			if err := c.buildLatest(ctx, ev.Push.After); err != nil && ctx.Err() == nil {
				c.p.cfg.Log.Error("build latest", "err", err)
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
func (c *ci) run(ctx context.Context, number int, fn func(context.Context)) {
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
		case <-c.p.ready:
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

// MonorepoRule decides what a PR's environment runs (ARCHITECTURE.md):
// its head sha as code_version when it changes service/, else latest; its
// head ref as infra branch when it changes infra/, else the base branch.
func MonorepoRule(files []string, headSHA, headRef, baseRef string) (codeVersion, infraBranch string) {
	codeVersion, infraBranch = "latest", baseRef
	if touches(files, "service/") {
		codeVersion = headSHA
	}
	if touches(files, "infra/") {
		infraBranch = headRef
	}
	return codeVersion, infraBranch
}

func (c *ci) preview(ctx context.Context, pr githost.PR, files []string) {
	began := time.Now()
	codeVersion, infraBranch := MonorepoRule(files, pr.HeadSHA, pr.HeadRef, pr.BaseRef)
	id := envfile.ID(pr.Owner, pr.Repo, pr.Number)
	url := c.p.EnvironmentURL(id)
	c.logf(ctx, pr.Number, "preview: PR #%d at %s: code_version %s, infra branch %s", pr.Number, short(pr.HeadSHA), short(codeVersion), infraBranch)
	fail := func(step string, err error) {
		if ctx.Err() != nil {
			c.logf(ctx, pr.Number, "%s: canceled (%s)", step, canceled(ctx))
			return
		}
		c.logf(ctx, pr.Number, "%s failed: %v", step, err)
		c.setPreview(ctx, pr, id, PreviewFailed, codeVersion, url, fmt.Sprintf("Preview failed at %s: %v", step, err))
	}
	if codeVersion != "latest" {
		c.setPreview(ctx, pr, id, PreviewBuilding, codeVersion, url, "Building "+short(codeVersion))
		t := time.Now()
		res, err := c.buildAndUpload(ctx, pr.HeadSHA, codeVersion)
		if err != nil {
			fail("package", err)
			return
		}
		c.logf(ctx, pr.Number, "package: %s in %d ms", res, time.Since(t).Milliseconds())
	}
	c.setPreview(ctx, pr, id, PreviewRendering, codeVersion, url, "Writing the environment file")
	t := time.Now()
	op, err := c.writeEnvironment(ctx, pr, codeVersion, infraBranch)
	if err != nil {
		fail("render", err)
		return
	}
	c.logf(ctx, pr.Number, "render: environment %s file %s in %d ms", id, op, time.Since(t).Milliseconds())
	c.setPreview(ctx, pr, id, PreviewDeploying, codeVersion, url, "Waiting for "+url+" to serve "+short(codeVersion))
	t = time.Now()
	wctx, cancel := context.WithTimeout(ctx, c.p.cfg.WaitTimeout)
	defer cancel()
	resp, err := waitfor.Version(wctx, waitfor.Options{URL: url, Expect: codeVersion, Interval: 50 * time.Millisecond, Client: c.http})
	if err != nil {
		fail("wait", fmt.Errorf("%w (last response: %s)", err, resp))
		return
	}
	c.logf(ctx, pr.Number, "wait: %s serves %s after %d ms (%d ms since the event)", url, short(codeVersion),
		time.Since(t).Milliseconds(), time.Since(began).Milliseconds())
	c.setPreview(ctx, pr, id, PreviewLive, codeVersion, url,
		fmt.Sprintf("Preview environment %s is live at %s, serving %s.", id, url, short(codeVersion)))
}

func (c *ci) destroy(ctx context.Context, pr githost.PR) {
	id := envfile.ID(pr.Owner, pr.Repo, pr.Number)
	url := c.p.EnvironmentURL(id)
	c.setPreview(ctx, pr, id, PreviewDestroying, "", url, "Destroying the preview environment")
	e := envfile.Environment{Service: c.p.cfg.Service, Owner: pr.Owner, Repo: pr.Repo, PR: pr.Number, ID: id}
	res, err := updatefile.Apply(ctx, c.gh, updatefile.Request{Owner: c.p.cfg.Owner, Repo: c.p.cfg.Repo, Branch: DefaultBranch,
		Path:    "manager/" + c.p.cfg.Service + "/environments/" + envfile.FileName(e),
		Message: fmt.Sprintf("preview: remove environment %s (PR #%d closed)", id, pr.Number), Delete: true})
	// A canceled destroy is not a failed one: the preview stays
	// "destroying", which the next start's reconcile picks up.
	if err != nil && ctx.Err() != nil {
		c.logf(ctx, pr.Number, "destroy: canceled (%s)", canceled(ctx))
		return
	}
	if err != nil {
		c.logf(ctx, pr.Number, "destroy failed: %v", err)
		c.setPreview(ctx, pr, id, PreviewFailed, "", url, "Removing the environment file failed: "+err.Error())
		return
	}
	c.logf(ctx, pr.Number, "destroy: environment file %s (commit %s, %d attempt(s))", res.Operation, short(res.CommitSHA), res.Attempts)
	wctx, cancel := context.WithTimeout(ctx, c.p.cfg.WaitTimeout)
	defer cancel()
	t := time.Now()
	for {
		resp, err := c.http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound {
				break
			}
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				c.logf(ctx, pr.Number, "destroy: canceled (%s)", canceled(ctx))
				return
			}
			c.setPreview(ctx, pr, id, PreviewFailed, "", url, "The environment still answers after the PR closed")
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	c.logf(ctx, pr.Number, "destroy: %s answers 404 after %d ms", url, time.Since(t).Milliseconds())
	c.setPreview(ctx, pr, id, PreviewDestroyed, "", url, "The preview environment was destroyed when the PR closed.")
}

// buildAndUpload is package.yml: build bootstrap at the commit and upload
// <version>.zip (identical bytes are not uploaded twice).
func (c *ci) buildAndUpload(ctx context.Context, commit, version string) (string, error) {
	tmp, err := os.MkdirTemp(filepath.Join(c.p.cfg.Sandbox.DataDir, "tmp"), "build-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	// Export keeps repository paths: the module lands in tmp/service.
	src := filepath.Join(tmp, "service")
	if err := c.p.Git.Export(ctx, c.p.cfg.Owner, c.p.cfg.Repo, commit, "service", tmp); err != nil {
		return "", fmt.Errorf("check out service/ at %s: %w", short(commit), err)
	}
	a, err := artifact.Build(ctx, artifact.BuildOptions{Version: version, Commit: commit, Arch: c.p.cfg.Arch, SourceDir: src})
	if err != nil {
		return "", err
	}
	key, err := artifact.Key(version)
	if err != nil {
		return "", err
	}
	up, err := artifact.Upload(ctx, c.s3, c.p.SB.Bucket(), key, a.Zip)
	if err != nil {
		return "", err
	}
	what := "uploaded"
	if up.Skipped {
		what = "already there, upload skipped"
	}
	return fmt.Sprintf("%s (%d bytes, sha256 %s) %s", up.URI(), len(a.Zip), a.SHA256Hex[:12], what), nil
}

func (c *ci) buildLatest(ctx context.Context, commit string) error {
	_, err := c.buildAndUpload(ctx, commit, "latest")
	return err
}

// ensureLatest builds latest.zip from the default branch when the bucket
// has none (a fresh sandbox), as the first package run on main would.
func (c *ci) ensureLatest(ctx context.Context) error {
	_, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(c.p.SB.Bucket()), Key: aws.String("latest.zip")})
	if err == nil {
		return nil
	}
	head, herr := c.p.Git.Head(ctx, c.p.cfg.Owner, c.p.cfg.Repo, DefaultBranch)
	if herr != nil {
		return herr
	}
	// A cold Go build takes a while: say so before, not only after.
	fmt.Fprintf(c.p.cfg.Progress, "sandbox: building latest.zip from %s at %s (first start only)...\n", DefaultBranch, short(head))
	t := time.Now()
	if err := c.buildLatest(ctx, head); err != nil {
		return fmt.Errorf("build latest.zip from %s: %w", DefaultBranch, err)
	}
	fmt.Fprintf(c.p.cfg.Progress, "sandbox: built latest.zip from %s at %s (%d ms)\n", DefaultBranch, short(head), time.Since(t).Milliseconds())
	return nil
}

// writeEnvironment is preview.yml's render + update-file-action steps: the
// file is rendered against the manager directory of the default branch and
// written through the contents API, retrying on conflicts.
func (c *ci) writeEnvironment(ctx context.Context, pr githost.PR, codeVersion, infraBranch string) (string, error) {
	tmp, err := os.MkdirTemp(filepath.Join(c.p.cfg.Sandbox.DataDir, "tmp"), "render-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	managerDir := filepath.Join(tmp, "manager")
	if err := c.p.Git.Export(ctx, c.p.cfg.Owner, c.p.cfg.Repo, DefaultBranch, "manager", tmp); err != nil {
		return "", fmt.Errorf("check out manager/: %w", err)
	}
	e, err := envfile.New(c.p.cfg.Service, pr.Owner, pr.Repo, pr.Number, codeVersion, infraBranch, time.Now(), c.p.cfg.TTL)
	if err != nil {
		return "", err
	}
	if e, err = envfile.Prepare(managerDir, e); err != nil {
		return "", err
	}
	body, err := envfile.Render(e)
	if err != nil {
		return "", err
	}
	res, err := updatefile.Apply(ctx, c.gh, updatefile.Request{Owner: c.p.cfg.Owner, Repo: c.p.cfg.Repo, Branch: DefaultBranch,
		Path:    "manager/" + c.p.cfg.Service + "/environments/" + envfile.FileName(e),
		Message: fmt.Sprintf("preview: environment %s for PR #%d at %s", e.ID, pr.Number, short(pr.HeadSHA)), Content: body})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (commit %s, %d attempt(s))", res.Operation, short(res.CommitSHA), res.Attempts), nil
}

func (c *ci) setPreview(ctx context.Context, pr githost.PR, id, st, version, url, comment string) {
	_, err := c.db.ExecContext(context.WithoutCancel(ctx), `INSERT INTO platform_previews
		(owner, repo, number, environment_id, state, version, head_sha, url, comment, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(owner, repo, number) DO UPDATE SET environment_id=excluded.environment_id, state=excluded.state,
		version=excluded.version, head_sha=excluded.head_sha, url=excluded.url, comment=excluded.comment, updated_at=excluded.updated_at`,
		pr.Owner, pr.Repo, pr.Number, id, st, version, pr.HeadSHA, url, comment, time.Now().UnixMilli())
	if err != nil {
		c.p.cfg.Log.Warn("preview status", "err", err)
	}
}

// Previews lists every PR's preview.
func (p *Platform) Previews(ctx context.Context) ([]Preview, error) {
	rows, err := p.SB.DB().QueryContext(ctx, `SELECT owner, repo, number, environment_id, state, version, head_sha, url, comment, updated_at
		FROM platform_previews ORDER BY number`)
	if err != nil {
		return nil, fmt.Errorf("list previews: %w", err)
	}
	defer rows.Close()
	var out []Preview
	for rows.Next() {
		var pv Preview
		var at int64
		if err := rows.Scan(&pv.Owner, &pv.Repo, &pv.Number, &pv.EnvironmentID, &pv.State, &pv.Version, &pv.HeadSHA,
			&pv.URL, &pv.Comment, &at); err != nil {
			return nil, fmt.Errorf("list previews: %w", err)
		}
		pv.UpdatedAt = time.UnixMilli(at).UTC()
		out = append(out, pv)
	}
	return out, rows.Err()
}

// Preview returns one PR's preview.
func (p *Platform) Preview(ctx context.Context, number int) (Preview, error) {
	all, err := p.Previews(ctx)
	if err != nil {
		return Preview{}, err
	}
	for _, pv := range all {
		if pv.Number == number {
			return pv, nil
		}
	}
	return Preview{}, fmt.Errorf("PR #%d has no preview: %w", number, githost.ErrNotFound)
}

// CILog returns the CI emulation's log for a PR.
func (p *Platform) CILog(ctx context.Context, number int) ([]CILine, error) {
	rows, err := p.SB.DB().QueryContext(ctx, `SELECT at, line FROM platform_ci_log WHERE owner = ? AND repo = ? AND number = ? ORDER BY seq`,
		p.cfg.Owner, p.cfg.Repo, number)
	if err != nil {
		return nil, fmt.Errorf("read CI log of PR #%d: %w", number, err)
	}
	defer rows.Close()
	var out []CILine
	for rows.Next() {
		var l CILine
		var at int64
		if err := rows.Scan(&at, &l.Line); err != nil {
			return nil, err
		}
		l.At = time.UnixMilli(at).UTC()
		out = append(out, l)
	}
	return out, rows.Err()
}

// reconcile finishes what a crash interrupted: open PRs whose preview never
// went live are previewed again, closed PRs not yet destroyed are destroyed.
func (c *ci) reconcile(ctx context.Context) error {
	prs, err := c.p.Git.ListPRs(ctx, c.p.cfg.Owner, c.p.cfg.Repo, "all")
	if err != nil {
		return err
	}
	previews, err := c.p.Previews(ctx)
	if err != nil {
		return err
	}
	byNumber := map[int]Preview{}
	for _, pv := range previews {
		byNumber[pv.Number] = pv
	}
	for _, pr := range prs {
		pv, seen := byNumber[pr.Number]
		switch {
		case pr.State == githost.StateOpen && (!seen || (pv.State != PreviewLive && pv.State != PreviewFailed) || pv.HeadSHA != pr.HeadSHA):
			files, err := c.p.Git.ChangedFiles(ctx, pr.Owner, pr.Repo, pr.BaseRef, pr.HeadSHA)
			if err != nil {
				return err
			}
			pr := pr
			c.run(ctx, pr.Number, func(ctx context.Context) { c.preview(ctx, pr, files) })
		case pr.State == githost.StateClosed && seen && pv.State != PreviewDestroyed:
			pr := pr
			c.run(ctx, pr.Number, func(ctx context.Context) { c.destroy(ctx, pr) })
		}
	}
	return nil
}

var errNoPR = errors.New("no such pull request")

// Package platform is the sandbox's composition root, what `previewctl
// sandbox up` and `make demo` run. It only wires: it constructs the parts,
// connects them, starts them and stops them. The behaviour is in the parts:
//
//   - the data plane (S3, Lambda, API Gateway): previewctl/pkg/sandbox;
//   - the GitHub stand-in on real git: previewctl/pkg/sandbox/githost;
//   - the Spacelift stand-in (engine, policies, OpenTofu runs):
//     previewctl/pkg/sandbox/spacelift;
//   - the CI steps of package.yml and preview.yml, with the preview records
//     and CI logs: previewctl/internal/sandbox/ci;
//   - the dashboard: previewctl/pkg/sandbox/dashboard.
//
// The wiring is the production flow with endpoints swapped: a PR event from
// the git host reaches the CI steps, which build and upload the artifact
// with service/artifact to the data plane's bucket, render the environment
// file with envfile, and write it to the manager directory with the
// update-file-action's Apply through the GitHub stand-in's HTTP API; the
// git host's push event then reaches the Spacelift engine, whose manager run
// reads that file and whose trigger policy redeploys the environment.
//
// Besides the wiring, the package keeps the sandbox's own front door, thin
// over the parts: the PR endpoints the CLI and the demo drive (api.go), the
// on-demand endpoints (ondemand.go), and, for callers that used to find
// them here, aliases and one-line methods over the CI package (previews.go).
package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-github/v60/github"

	"preview-environments/policies"
	"preview-environments/previewctl/internal/sandbox/ci"
	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/dashboard"
	"preview-environments/previewctl/pkg/sandbox/githost"
	"preview-environments/previewctl/pkg/sandbox/spacelift"
	"preview-environments/service/artifact"
)

// Defaults for the sandbox's names.
const (
	DefaultOwner   = "sandbox"
	DefaultRepo    = "preview-environments"
	DefaultService = "hello-service"
	DefaultBranch  = "main"
	ManagerStackID = "manager-hello-service"
)

// Config configures a Platform.
type Config struct {
	Sandbox sandbox.Config
	// RepoRoot is the monorepo working tree imported as the default branch.
	RepoRoot string
	Owner    string
	Repo     string
	Service  string
	// Arch is the architecture artifacts are built for; the emulator runs
	// them on this machine, so it defaults to the host's.
	Arch string
	// TTL of rendered environments.
	TTL time.Duration
	// WaitTimeout bounds how long a preview waits for its URL to serve the
	// PR head before the PR's status says failed.
	WaitTimeout time.Duration
	// SingleStack makes one-stack environments (the service alone, no
	// data stack): manager/'s data_stack = false.
	SingleStack bool
	// TofuPath and ProvidersDir locate OpenTofu and the sandbox's
	// providers; empty looks in PATH, then in RepoRoot/bin.
	TofuPath     string
	ProvidersDir string
	// GCInterval is how often Serve runs a gc pass (gc.go), as gc.yml's
	// schedule does in production; 0 runs none (`previewctl sandbox gc`
	// still does).
	GCInterval time.Duration
	// Progress receives start-up lines (nil discards).
	Progress io.Writer
	Log      *slog.Logger
}

// Platform is a running sandbox with its control plane.
type Platform struct {
	cfg    Config
	SB     *sandbox.Sandbox
	Git    *githost.Host
	Engine *spacelift.Engine
	ci     *ci.CI
	// gh and s3 are the clients the CI steps and the on-demand endpoints
	// reach the sandbox's GitHub API and bucket with.
	gh   *github.Client
	s3   *s3.Client
	stop []func()
	wg   sync.WaitGroup
	// life ends when the control plane stops (cancel).
	life   context.Context
	cancel context.CancelFunc
	ready  chan struct{}
	began  time.Time
	// halt stops the control plane once, from Serve or Close.
	halt sync.Once
	// gcMu makes gc passes take turns.
	gcMu sync.Mutex
}

// Open starts everything but the listener's serving loop (Serve).
func Open(ctx context.Context, cfg Config) (_ *Platform, err error) {
	if cfg.Owner == "" {
		cfg.Owner = DefaultOwner
	}
	if cfg.Repo == "" {
		cfg.Repo = DefaultRepo
	}
	if cfg.Service == "" {
		cfg.Service = DefaultService
	}
	if cfg.Arch == "" {
		cfg.Arch = runtime.GOARCH
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 7 * 24 * time.Hour
	}
	if cfg.WaitTimeout <= 0 {
		cfg.WaitTimeout = 2 * time.Minute
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Sandbox.Progress == nil {
		cfg.Sandbox.Progress = cfg.Progress
	}
	if cfg.Sandbox.Log == nil {
		cfg.Sandbox.Log = cfg.Log
	}
	if cfg.RepoRoot == "" {
		return nil, errors.New("platform: RepoRoot (the monorepo to import) is empty")
	}
	begin := time.Now()
	// The platform's goroutines live until Close, not until the caller's
	// start-up context ends.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p := &Platform{cfg: cfg, life: runCtx, cancel: cancel, ready: make(chan struct{})}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if p.SB, err = sandbox.Open(ctx, cfg.Sandbox); err != nil {
		return nil, err
	}
	t := time.Now()
	if p.Git, err = githost.New(ctx, cfg.Sandbox.DataDir, p.SB.DB()); err != nil {
		return nil, err
	}
	if err := p.Git.CreateRepo(ctx, cfg.Owner, cfg.Repo); err != nil && !errors.Is(err, githost.ErrExists) {
		return nil, fmt.Errorf("create %s/%s: %w", cfg.Owner, cfg.Repo, err)
	}
	// Environment files are state the CI steps wrote on main, absent from
	// the working tree: a restart's import must not erase them, or every
	// environment would be destroyed and the live ones never rendered again.
	envFiles, err := p.environmentFiles(ctx)
	if err != nil {
		return nil, err
	}
	imp, err := p.Git.ImportWorkingTree(ctx, cfg.RepoRoot, cfg.Owner, cfg.Repo)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", cfg.RepoRoot, err)
	}
	if err := p.restoreEnvironmentFiles(ctx, imp.SHA, envFiles); err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Progress, "sandbox: git host %s/%s, %s imported as %s at %s (%d ms)\n",
		cfg.Owner, cfg.Repo, cfg.RepoRoot, DefaultBranch, short(imp.SHA), time.Since(t).Milliseconds())

	t = time.Now()
	eval, err := policies.New(ctx)
	if err != nil {
		return nil, err
	}
	tofu, err := findTofu(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(cfg.Sandbox.DataDir, "tmp"), 0o755); err != nil {
		return nil, err
	}
	p.Engine, err = spacelift.New(ctx, p.SB.DB(), p.Git.Source(), eval, spacelift.Config{
		Repository: cfg.Owner + "/" + cfg.Repo, DefaultBranch: DefaultBranch, Manager: ManagerStackID,
		ManagerEnv: managerEnv(cfg, p.SB.Bucket()), Tofu: tofu, APIURL: p.SB.URL() + SpaceliftPrefix,
		RunEnv: p.SB.AWSEnv(), Logger: cfg.Log, TempDir: filepath.Join(cfg.Sandbox.DataDir, "tmp"),
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Progress, "sandbox: Spacelift stand-in, manager stack %s, policies compiled (%d ms)\n",
		ManagerStackID, time.Since(t).Milliseconds())

	if p.gh, err = github.NewClient(&http.Client{Timeout: 30 * time.Second}).WithEnterpriseURLs(p.SB.URL()+githost.APIPrefix, p.SB.URL()+githost.APIPrefix); err != nil {
		return nil, err
	}
	if p.s3, err = artifact.NewS3Client(ctx, artifact.S3Options{Endpoint: p.SB.S3Endpoint(), PathStyle: true,
		AccessKeyID: "sandbox", SecretAccessKey: "sandbox", Region: "us-east-1"}); err != nil {
		return nil, err
	}
	p.ci, err = ci.New(ctx, ci.Config{
		Owner: cfg.Owner, Repo: cfg.Repo, Service: cfg.Service, Branch: DefaultBranch, Arch: cfg.Arch,
		TTL: cfg.TTL, WaitTimeout: cfg.WaitTimeout, TempDir: filepath.Join(cfg.Sandbox.DataDir, "tmp"),
	}, ci.Deps{
		Git: p.Git, Contents: ci.GitHubContents{Client: p.gh}, Artifacts: ci.S3Artifacts{Client: p.s3, Bucket: p.SB.Bucket()},
		EnvironmentURL: p.EnvironmentURL, HTTP: LocalhostClient(p.SB.Addr()), DB: p.SB.DB(), Ready: p.ready,
		Progress: cfg.Progress, Log: cfg.Log,
	})
	if err != nil {
		return nil, err
	}

	p.SB.Handle(githost.APIPrefix, p.Git.Handler())
	p.SB.Handle(githost.GitPrefix, p.Git.Handler())
	p.SB.Handle("/api/spacelift/", http.StripPrefix("/api/spacelift", p.Engine.Handler()))
	p.SB.Handle(SpaceliftPrefix+"/", http.StripPrefix(SpaceliftPrefix, p.Engine.ProviderHandler()))
	p.mountAPI()
	dashboard.New(dashboard.Source{Engine: p.Engine, Previews: dashboard.PreviewsFrom(p.Previews), Service: cfg.Service,
		DataPlane: dashboard.DataPlaneOf(p.SB.URL, func(id, service string) string {
			return sandbox.EnvironmentURL(p.SB.Addr(), id, service)
		}, p.SB.Environments)}).Mount(p.SB.Handle)

	// Pushes reach Spacelift; PR events reach the CI emulation.
	p.stop = append(p.stop, p.Git.Subscribe(func(ev githost.Event) {
		if ev.Type != githost.EventPush || ev.Push == nil {
			return
		}
		push := spacelift.PushEvent{Repository: ev.Owner + "/" + ev.Repo, Branch: ev.Push.Branch, Before: ev.Push.Before,
			After: ev.Push.After, AffectedFiles: ev.Push.Files, Author: ev.Push.Pusher, Message: ev.Push.Message}
		if err := p.Engine.HandlePush(runCtx, push); err != nil && runCtx.Err() == nil {
			cfg.Log.Error("push to spacelift", "err", err)
		}
	}))
	p.stop = append(p.stop, p.Git.Subscribe(func(ev githost.Event) { p.ci.Handle(runCtx, ev) }))

	if err := p.Engine.Start(runCtx); err != nil {
		return nil, err
	}
	p.began = begin
	return p, nil
}

// Serve answers requests until ctx is done. The start-up steps that go
// through the sandbox's own HTTP endpoints (S3, the contents API) run once
// it answers; Ready is closed after them.
func (p *Platform) Serve(ctx context.Context) error {
	// The data plane closes the store as its Serve ends: it may end only
	// once the CI steps and runs, which write to the store, have stopped.
	sbCtx, stopSB := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSB()
	errc := make(chan error, 1)
	go func() { errc <- p.SB.Serve(sbCtx) }()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(p.ready)
		// Like package.yml on the default branch: latest.zip must exist
		// before any environment on `latest` can run.
		if err := p.ci.EnsureLatest(ctx); err != nil && ctx.Err() == nil {
			fmt.Fprintf(p.cfg.Progress, "sandbox: warning: %v\n", err)
			p.cfg.Log.Error("build latest.zip", "err", err)
		}
		if err := p.ci.Reconcile(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Log.Warn("reconcile previews", "err", err)
		}
		fmt.Fprintf(p.cfg.Progress, "sandbox: ready in %d ms: dashboard and API at %s\n",
			time.Since(p.began).Milliseconds(), p.SB.URL())
		if iv := p.cfg.GCInterval; iv > 0 && ctx.Err() == nil {
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.gcLoop(p.life, iv)
			}()
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	p.stopControlPlane()
	stopSB()
	return <-errc
}

// Ready is closed once the sandbox serves and its start-up steps are done.
func (p *Platform) Ready() <-chan struct{} { return p.ready }

// Close stops the control plane, then the data plane.
func (p *Platform) Close() error {
	p.stopControlPlane()
	var errs []error
	if p.Git != nil {
		errs = append(errs, p.Git.Close())
	}
	if p.SB != nil {
		errs = append(errs, p.SB.Close())
	}
	return errors.Join(errs...)
}

// stopControlPlane stops the event subscriptions, CI steps and runs and
// waits for them; the HTTP endpoints they call keep answering meanwhile.
func (p *Platform) stopControlPlane() {
	p.halt.Do(func() {
		if p.cancel != nil {
			p.cancel()
		}
		for _, s := range p.stop {
			s()
		}
		p.wg.Wait()
		if p.ci != nil {
			p.ci.Wait()
		}
		if p.Engine != nil {
			p.Engine.Wait()
		}
	})
}

// EnvironmentURL is where an environment answers (with a trailing slash).
func (p *Platform) EnvironmentURL(id string) string {
	return sandbox.EnvironmentURL(p.SB.Addr(), id, p.cfg.Service)
}

// Config returns the effective configuration.
func (p *Platform) Config() Config { return p.cfg }

// SpaceliftPrefix is where the Spacelift stand-in serves its runs: the
// provider API and the stacks' state.
const SpaceliftPrefix = "/spacelift"

// managerEnv is what setup/ sets on the manager stack: manager/'s root
// variables as TF_VAR_*. The sandbox's preview domain is localhost, so an
// environment is served at <id>.<service>.localhost, where every browser
// and curl resolve it to loopback.
func managerEnv(cfg Config, bucket string) map[string]string {
	return map[string]string{
		"TF_VAR_service":            cfg.Service,
		"TF_VAR_preview_domain":     "localhost",
		"TF_VAR_hosted_zone_id":     "Z0SANDBOX000000000000",
		"TF_VAR_aws_region":         "us-east-1",
		"TF_VAR_artifact_bucket":    bucket,
		"TF_VAR_aws_integration_id": "(set by the engine)",
		"TF_VAR_repository":         cfg.Repo,
		"TF_VAR_space_id":           "root",
		"TF_VAR_opentofu_version":   "1.10.6",
		"TF_VAR_data_stack":         strconv.FormatBool(!cfg.SingleStack),
	}
}

// findTofu locates OpenTofu and the sandbox providers: the configured
// paths, else PATH, else the repository's bin/ (where make tools puts
// them).
func findTofu(cfg Config) (spacelift.Tofu, error) {
	t := spacelift.Tofu{Path: cfg.TofuPath, ProvidersDir: cfg.ProvidersDir}
	bin := filepath.Join(cfg.RepoRoot, "bin")
	if t.Path == "" {
		if p, err := exec.LookPath("tofu"); err == nil {
			t.Path = p
		} else if _, err := os.Stat(filepath.Join(bin, "tofu")); err == nil {
			t.Path = filepath.Join(bin, "tofu")
		} else {
			return t, errors.New("OpenTofu not found in PATH or " + bin + ": run make tools")
		}
	}
	if t.ProvidersDir == "" {
		if p, err := exec.LookPath("terraform-provider-spacelift"); err == nil {
			t.ProvidersDir = filepath.Dir(p)
		} else {
			t.ProvidersDir = bin
		}
	}
	return t, nil
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// environmentFiles reads the environment files on the default branch (none
// before the first import).
func (p *Platform) environmentFiles(ctx context.Context) (map[string][]byte, error) {
	if _, err := p.Git.Head(ctx, p.cfg.Owner, p.cfg.Repo, DefaultBranch); errors.Is(err, githost.ErrNotFound) {
		return nil, nil
	}
	tree, err := p.Git.ReadTree(ctx, p.cfg.Owner, p.cfg.Repo, DefaultBranch, "manager")
	if err != nil {
		return nil, fmt.Errorf("read environment files on %s: %w", DefaultBranch, err)
	}
	out := map[string][]byte{}
	for name, f := range tree {
		dir, base := path.Split(name)
		if f.Mode.IsRegular() && envfile.IsEnvFileName(base) && path.Base(dir) == "environments" {
			out[name] = f.Content
		}
	}
	return out, nil
}

// restoreEnvironmentFiles commits back, on top of the import, the
// environment files it dropped or changed.
func (p *Platform) restoreEnvironmentFiles(ctx context.Context, head string, files map[string][]byte) error {
	now, err := p.environmentFiles(ctx)
	if err != nil {
		return err
	}
	changes := map[string][]byte{}
	for name, b := range files {
		if !bytes.Equal(now[name], b) {
			changes[name] = b
		}
	}
	if len(changes) == 0 {
		return nil
	}
	if _, err := p.Git.CommitFiles(ctx, p.cfg.Owner, p.cfg.Repo, DefaultBranch, head, changes,
		fmt.Sprintf("Restore %d environment file(s) the working tree import dropped", len(changes))); err != nil {
		return fmt.Errorf("restore environment files on %s: %w", DefaultBranch, err)
	}
	return nil
}

package ci

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox/githost"
	"preview-environments/previewctl/pkg/waitfor"
	"preview-environments/service/artifact"
	"preview-environments/update-file-action/updatefile"
)

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

// envFilePath is where a PR's or on-demand environment's file lives on the
// default branch.
func (c *CI) envFilePath(e envfile.Environment) string {
	return "manager/" + c.cfg.Service + "/environments/" + envfile.FileName(e)
}

// preview is preview.yml for an opened or synchronized PR: package (when
// the PR changes service/), render and write the environment file, wait for
// the URL to serve the code version.
func (c *CI) preview(ctx context.Context, pr githost.PR, files []string) {
	began := time.Now()
	codeVersion, infraBranch := MonorepoRule(files, pr.HeadSHA, pr.HeadRef, pr.BaseRef)
	id := envfile.ID(pr.Owner, pr.Repo, pr.Number)
	url := c.deps.EnvironmentURL(id)
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
	wctx, cancel := context.WithTimeout(ctx, c.cfg.WaitTimeout)
	defer cancel()
	resp, err := waitfor.Version(wctx, waitfor.Options{URL: url, Expect: codeVersion, Interval: pollInterval, Client: c.deps.HTTP})
	if err != nil {
		fail("wait", fmt.Errorf("%w (last response: %s)", err, resp))
		return
	}
	c.logf(ctx, pr.Number, "wait: %s serves %s after %d ms (%d ms since the event)", url, short(codeVersion),
		time.Since(t).Milliseconds(), time.Since(began).Milliseconds())
	c.setPreview(ctx, pr, id, PreviewLive, codeVersion, url,
		fmt.Sprintf("Preview environment %s is live at %s, serving %s.", id, url, short(codeVersion)))
}

// destroy is preview.yml for a closed PR: delete the environment file and
// wait for the URL to answer 404.
func (c *CI) destroy(ctx context.Context, pr githost.PR) {
	id := envfile.ID(pr.Owner, pr.Repo, pr.Number)
	url := c.deps.EnvironmentURL(id)
	c.setPreview(ctx, pr, id, PreviewDestroying, "", url, "Destroying the preview environment")
	e := envfile.Environment{Service: c.cfg.Service, Owner: pr.Owner, Repo: pr.Repo, PR: pr.Number, ID: id}
	res, err := c.deps.Contents.Apply(ctx, updatefile.Request{Owner: c.cfg.Owner, Repo: c.cfg.Repo, Branch: c.cfg.Branch,
		Path:    c.envFilePath(e),
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
	wctx, cancel := context.WithTimeout(ctx, c.cfg.WaitTimeout)
	defer cancel()
	t := time.Now()
	for {
		resp, err := c.deps.HTTP.Get(url)
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
		case <-time.After(pollInterval):
		}
	}
	c.logf(ctx, pr.Number, "destroy: %s answers 404 after %d ms", url, time.Since(t).Milliseconds())
	c.setPreview(ctx, pr, id, PreviewDestroyed, "", url, "The preview environment was destroyed when the PR closed.")
}

// buildAndUpload is package.yml: build bootstrap at the commit and upload
// <version>.zip (identical bytes are not uploaded twice).
func (c *CI) buildAndUpload(ctx context.Context, commit, version string) (string, error) {
	tmp, err := os.MkdirTemp(c.cfg.TempDir, "build-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	// Export keeps repository paths: the module lands in tmp/service.
	src := filepath.Join(tmp, "service")
	if err := c.deps.Git.Export(ctx, c.cfg.Owner, c.cfg.Repo, commit, "service", tmp); err != nil {
		return "", fmt.Errorf("check out service/ at %s: %w", short(commit), err)
	}
	a, err := c.deps.Artifacts.Build(ctx, artifact.BuildOptions{Version: version, Commit: commit, Arch: c.cfg.Arch, SourceDir: src})
	if err != nil {
		return "", err
	}
	key, err := artifact.Key(version)
	if err != nil {
		return "", err
	}
	up, err := c.deps.Artifacts.Upload(ctx, key, a.Zip)
	if err != nil {
		return "", err
	}
	what := "uploaded"
	if up.Skipped {
		what = "already there, upload skipped"
	}
	return fmt.Sprintf("%s (%d bytes, sha256 %s) %s", up.URI(), len(a.Zip), a.SHA256Hex[:12], what), nil
}

func (c *CI) buildLatest(ctx context.Context, commit string) error {
	_, err := c.buildAndUpload(ctx, commit, "latest")
	return err
}

// EnsureLatest builds latest.zip from the default branch when the bucket
// has none (a fresh sandbox), as the first package run on main would.
func (c *CI) EnsureLatest(ctx context.Context) error {
	if err := c.deps.Artifacts.Stat(ctx, "latest.zip"); err == nil {
		return nil
	}
	head, herr := c.deps.Git.Head(ctx, c.cfg.Owner, c.cfg.Repo, c.cfg.Branch)
	if herr != nil {
		return herr
	}
	// A cold Go build takes a while: say so before, not only after.
	fmt.Fprintf(c.deps.Progress, "sandbox: building latest.zip from %s at %s (first start only)...\n", c.cfg.Branch, short(head))
	t := time.Now()
	if err := c.buildLatest(ctx, head); err != nil {
		return fmt.Errorf("build latest.zip from %s: %w", c.cfg.Branch, err)
	}
	fmt.Fprintf(c.deps.Progress, "sandbox: built latest.zip from %s at %s (%d ms)\n", c.cfg.Branch, short(head), time.Since(t).Milliseconds())
	return nil
}

// writeEnvironment is preview.yml's render + update-file-action steps: the
// file is rendered against the manager directory of the default branch and
// written through the contents API, retrying on conflicts.
func (c *CI) writeEnvironment(ctx context.Context, pr githost.PR, codeVersion, infraBranch string) (string, error) {
	tmp, err := os.MkdirTemp(c.cfg.TempDir, "render-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	managerDir := filepath.Join(tmp, "manager")
	if err := c.deps.Git.Export(ctx, c.cfg.Owner, c.cfg.Repo, c.cfg.Branch, "manager", tmp); err != nil {
		return "", fmt.Errorf("check out manager/: %w", err)
	}
	e, err := envfile.New(c.cfg.Service, pr.Owner, pr.Repo, pr.Number, codeVersion, infraBranch, c.deps.Now(), c.cfg.TTL)
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
	res, err := c.deps.Contents.Apply(ctx, updatefile.Request{Owner: c.cfg.Owner, Repo: c.cfg.Repo, Branch: c.cfg.Branch,
		Path:    c.envFilePath(e),
		Message: fmt.Sprintf("preview: environment %s for PR #%d at %s", e.ID, pr.Number, short(pr.HeadSHA)), Content: body})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (commit %s, %d attempt(s))", res.Operation, short(res.CommitSHA), res.Attempts), nil
}

// Reconcile finishes what a crash interrupted: open PRs whose preview never
// went live (or went live at another head) are previewed again, closed PRs
// not yet destroyed are destroyed. The jobs run in the background until ctx
// ends.
func (c *CI) Reconcile(ctx context.Context) error {
	prs, err := c.deps.Git.ListPRs(ctx, c.cfg.Owner, c.cfg.Repo, "all")
	if err != nil {
		return err
	}
	previews, err := c.Previews(ctx)
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
			files, err := c.deps.Git.ChangedFiles(ctx, pr.Owner, pr.Repo, pr.BaseRef, pr.HeadSHA)
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

package githost

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"net/url"
	"sort"
	"strings"
)

// gitEndpoints are the smart-HTTP paths served; the dumb protocol is not.
var gitEndpoints = map[string]bool{"info/refs": true, "git-upload-pack": true, "git-receive-pack": true}

// serveGit runs `git http-backend` as a CGI for clone, fetch and push. A
// push (receive-pack) holds the repository lock while it runs, then emits a
// push event per branch it moved, like a post-receive hook but in Go.
func (h *Host) serveGit(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, GitPrefix)
	owner, rest, ok1 := strings.Cut(rest, "/")
	repoGit, endpoint, ok2 := strings.Cut(rest, "/")
	repo, ok3 := strings.CutSuffix(repoGit, ".git")
	if !ok1 || !ok2 || !ok3 || !gitEndpoints[endpoint] {
		http.Error(w, "not found: use /git/<owner>/<repo>.git", http.StatusNotFound)
		return
	}
	ref, err := h.repo(r.Context(), owner, repo)
	if err != nil {
		http.Error(w, "repository not found", http.StatusNotFound)
		return
	}
	// The CGI sees the on-disk (lower-case) name whatever case the URL used.
	r2 := r.Clone(r.Context())
	r2.URL = &url.URL{Path: GitPrefix + ref.key + ".git/" + endpoint, RawQuery: r.URL.RawQuery}
	cgiH := &cgi.Handler{
		Path:   h.gitPath,
		Root:   strings.TrimSuffix(GitPrefix, "/"),
		Dir:    h.home,
		Args:   []string{"http-backend"},
		Stderr: logWriter{h.log},
		Env: append(h.baseEnv(),
			"GIT_PROJECT_ROOT="+h.root,
			"GIT_HTTP_EXPORT_ALL=1",
		),
	}
	push := endpoint == "git-receive-pack" && r.Method == http.MethodPost
	if !push {
		cgiH.ServeHTTP(w, r2)
		return
	}
	mu := h.lock(ref.key)
	mu.Lock()
	defer mu.Unlock()
	ctx := r.Context()
	before, err := h.allBranches(ctx, ref)
	if err != nil {
		http.Error(w, "read branches: "+err.Error(), http.StatusInternalServerError)
		return
	}
	cgiH.ServeHTTP(w, r2)
	// The response is written; events are computed even if the client has
	// gone, so the push is never silently lost.
	ctx = context.WithoutCancel(ctx)
	after, err := h.allBranches(ctx, ref)
	if err != nil {
		return
	}
	names := make([]string, 0, len(after)+len(before))
	for b := range after {
		names = append(names, b)
	}
	for b := range before {
		if _, ok := after[b]; !ok {
			names = append(names, b)
		}
	}
	sort.Strings(names)
	for _, b := range names {
		old, nw := before[b], after[b]
		if old == nw || ValidateBranch(b) != nil {
			// Unchanged, or a name the host's consumers must never see.
			continue
		}
		if old == "" {
			old = ZeroSHA
		}
		if nw == "" {
			h.ev.emit(Event{Type: EventPush, Owner: ref.owner, Repo: ref.name,
				Push: &PushEvent{Branch: b, Before: old, After: ZeroSHA, Files: []string{}, Pusher: "git-http", Time: h.now().UTC()}})
			continue
		}
		h.afterPushLocked(ctx, ref, b, old, nw, pushInfo{pusher: "git-http"})
	}
}

// logWriter sends git http-backend's stderr to the host's logger.
type logWriter struct{ l *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Warn("githost: git http-backend", "stderr", strings.TrimSpace(string(p)))
	return len(p), nil
}

package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox/githost"
)

// OpenPR commits files on a new branch and opens a PR from it into the
// default branch, as a person would push a branch and open a PR. nil
// content deletes a path.
func (p *Platform) OpenPR(ctx context.Context, branch, title string, files map[string][]byte) (githost.PR, error) {
	if len(files) == 0 {
		return githost.PR{}, errors.New("open PR: no files to change (a PR needs a commit)")
	}
	// Refuse before committing: a commit to a branch that already has an
	// open PR would land as a push to that PR even though this call fails.
	open, err := p.Git.ListPRs(ctx, p.cfg.Owner, p.cfg.Repo, githost.StateOpen)
	if err != nil {
		return githost.PR{}, fmt.Errorf("open PR from %q: %w", branch, err)
	}
	for _, pr := range open {
		if pr.HeadRef == branch && pr.BaseRef == DefaultBranch {
			return githost.PR{}, fmt.Errorf("open PR from %q: PR #%d is already open for it: %w", branch, pr.Number, githost.ErrExists)
		}
	}
	if _, err := p.Git.CommitFiles(ctx, p.cfg.Owner, p.cfg.Repo, branch, "", files, title); err != nil {
		return githost.PR{}, fmt.Errorf("open PR: commit to branch %q: %w", branch, err)
	}
	pr, err := p.Git.OpenPR(ctx, p.cfg.Owner, p.cfg.Repo, branch, DefaultBranch, title)
	if err != nil {
		return githost.PR{}, fmt.Errorf("open PR from %q: %w", branch, err)
	}
	return pr, nil
}

// PushPR commits files on the PR's head branch (a synchronize event).
func (p *Platform) PushPR(ctx context.Context, number int, message string, files map[string][]byte) (githost.PR, error) {
	pr, err := p.Git.GetPR(ctx, p.cfg.Owner, p.cfg.Repo, number)
	if err != nil {
		return pr, fmt.Errorf("push to PR #%d: %w", number, err)
	}
	if pr.State != githost.StateOpen {
		return pr, fmt.Errorf("push to PR #%d: it is %s", number, pr.State)
	}
	if len(files) == 0 {
		return pr, fmt.Errorf("push to PR #%d: no files to change", number)
	}
	if _, err := p.Git.CommitFiles(ctx, p.cfg.Owner, p.cfg.Repo, pr.HeadRef, pr.HeadSHA, files, message); err != nil {
		return pr, fmt.Errorf("push to PR #%d (%s): %w", number, pr.HeadRef, err)
	}
	return p.Git.GetPR(ctx, p.cfg.Owner, p.cfg.Repo, number)
}

// ClosePR closes a PR (its preview is then destroyed).
func (p *Platform) ClosePR(ctx context.Context, number int) (githost.PR, error) {
	pr, err := p.Git.ClosePR(ctx, p.cfg.Owner, p.cfg.Repo, number)
	if err != nil {
		return pr, fmt.Errorf("close PR #%d: %w", number, err)
	}
	return pr, nil
}

// PRView is a PR with its preview, as the API and the CLI show it.
type PRView struct {
	Number  int      `json:"number"`
	Title   string   `json:"title"`
	State   string   `json:"state"`
	HeadRef string   `json:"head_ref"`
	HeadSHA string   `json:"head_sha"`
	Preview *Preview `json:"preview,omitempty"`
}

// PRs lists every PR with its preview.
func (p *Platform) PRs(ctx context.Context) ([]PRView, error) {
	prs, err := p.Git.ListPRs(ctx, p.cfg.Owner, p.cfg.Repo, "all")
	if err != nil {
		return nil, err
	}
	previews, err := p.Previews(ctx)
	if err != nil {
		return nil, err
	}
	byNumber := map[int]Preview{}
	for _, pv := range previews {
		byNumber[pv.Number] = pv
	}
	out := []PRView{}
	for _, pr := range prs {
		v := PRView{Number: pr.Number, Title: pr.Title, State: pr.State, HeadRef: pr.HeadRef, HeadSHA: pr.HeadSHA}
		if pv, ok := byNumber[pr.Number]; ok {
			v.Preview = &pv
		}
		out = append(out, v)
	}
	return out, nil
}

// prRequest is the JSON body of the PR endpoints. Files map a path to its
// new content; null deletes the path.
type prRequest struct {
	Branch  string             `json:"branch"`
	Title   string             `json:"title"`
	Message string             `json:"message"`
	Files   map[string]*string `json:"files"`
}

func (r prRequest) changes() map[string][]byte {
	out := map[string][]byte{}
	for k, v := range r.Files {
		if v == nil {
			out[k] = nil
		} else {
			out[k] = []byte(*v)
		}
	}
	return out
}

// mountAPI adds the PR endpoints the CLI and the demo drive:
//
//	GET  /api/prs                 PRs with their previews
//	POST /api/prs                 {branch, title, files} open a PR
//	GET  /api/prs/{n}             one PR with its preview and CI log
//	POST /api/prs/{n}/commits     {message, files} push to the PR
//	POST /api/prs/{n}/close       close it
func (p *Platform) mountAPI() {
	p.SB.Handle("GET /api/prs", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := p.PRs(r.Context())
		reply(w, v, err)
	}))
	p.SB.Handle("POST /api/prs", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req prRequest
		if !decode(w, r, &req) {
			return
		}
		if req.Title == "" {
			req.Title = "Change " + req.Branch
		}
		pr, err := p.OpenPR(r.Context(), req.Branch, req.Title, req.changes())
		replyStatus(w, http.StatusCreated, pr, err)
	}))
	p.SB.Handle("GET /api/prs/{n}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, ok := number(w, r)
		if !ok {
			return
		}
		pr, err := p.Git.GetPR(r.Context(), p.cfg.Owner, p.cfg.Repo, n)
		if err != nil {
			reply(w, nil, err)
			return
		}
		log, _ := p.CILog(r.Context(), n)
		v := struct {
			PRView
			CILog []CILine `json:"ci_log"`
		}{PRView: PRView{Number: pr.Number, Title: pr.Title, State: pr.State, HeadRef: pr.HeadRef, HeadSHA: pr.HeadSHA}, CILog: log}
		if pv, err := p.Preview(r.Context(), n); err == nil {
			v.Preview = &pv
		}
		reply(w, v, nil)
	}))
	p.SB.Handle("POST /api/prs/{n}/commits", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, ok := number(w, r)
		if !ok {
			return
		}
		var req prRequest
		if !decode(w, r, &req) {
			return
		}
		if req.Message == "" {
			req.Message = "Update"
		}
		pr, err := p.PushPR(r.Context(), n, req.Message, req.changes())
		reply(w, pr, err)
	}))
	p.SB.Handle("POST /api/prs/{n}/close", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, ok := number(w, r)
		if !ok {
			return
		}
		pr, err := p.ClosePR(r.Context(), n)
		reply(w, pr, err)
	}))
	p.mountOnDemand()          // GET/POST /api/ondemand, POST /api/ondemand/{name}/extend, DELETE /api/ondemand/{name} (ondemand.go)
	MountGC(p.SB.Handle, p.GC) // POST /api/gc (gc.go)
}

func number(w http.ResponseWriter, r *http.Request) (int, bool) {
	// The CLI's rule: Atoi would take "+5" and "010" for PRs 5 and 10.
	n, err := envfile.ParsePR(r.PathValue("n"))
	if err != nil {
		replyStatus(w, http.StatusBadRequest, nil, fmt.Errorf("PR number %q: want a positive decimal integer without sign or leading zeros", r.PathValue("n")))
		return 0, false
	}
	return n, true
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		replyStatus(w, http.StatusBadRequest, nil, fmt.Errorf("request body: %w", err))
		return false
	}
	return true
}

func reply(w http.ResponseWriter, v any, err error) { replyStatus(w, http.StatusOK, v, err) }

func replyStatus(w http.ResponseWriter, code int, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		switch {
		case errors.Is(err, githost.ErrNotFound):
			code = http.StatusNotFound
		case errors.Is(err, githost.ErrExists), errors.Is(err, githost.ErrStale):
			code = http.StatusConflict
		case errors.Is(err, githost.ErrInvalid):
			code = http.StatusBadRequest
		case code == http.StatusBadRequest:
		default:
			code = http.StatusInternalServerError
		}
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

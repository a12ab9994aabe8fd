package githost

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"preview-environments/update-file-action/contentsapi"
)

// APIPrefix is where the host serves GitHub's REST API on the sandbox's
// listener. go-github reaches it with
// client.WithEnterpriseURLs("http://127.0.0.1:PORT"+APIPrefix, same),
// which appends "api/v3/".
const APIPrefix = "/github/"

// GitPrefix is where git smart HTTP is served: clone
// http://127.0.0.1:PORT/git/<owner>/<repo>.git
const GitPrefix = "/git/"

// Handler serves, on one mux:
//
//	/github/api/v3/repos/{o}/{r}/pulls            GET (?state=open|closed|all), POST {title, head, base}
//	/github/api/v3/repos/{o}/{r}/pulls/{n}        GET, PATCH {"state":"closed"}
//	/github/api/v3/repos/{o}/{r}/git/refs         POST {"ref":"refs/heads/<b>", "sha"} (new branch)
//	/github/api/v3/...                            the contents API (contentsapi.NewServer on this host)
//	/git/{o}/{r}.git/...                          git smart HTTP (clone, fetch, push; pushes emit events)
//
// opts are passed to contentsapi.NewServer (tokens, latency).
func (h *Host) Handler(opts ...contentsapi.Option) http.Handler {
	contents := http.StripPrefix(strings.TrimSuffix(APIPrefix, "/"), contentsapi.NewServer(h, opts...))
	mux := http.NewServeMux()
	mux.Handle(GitPrefix, http.HandlerFunc(h.serveGit))
	mux.Handle(APIPrefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.servePulls(w, r) {
			return
		}
		contents.ServeHTTP(w, r)
	}))
	return mux
}

// servePulls answers the pulls endpoints and reports whether the request
// was one.
func (h *Host) servePulls(w http.ResponseWriter, r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), APIPrefix+"api/v3/repos/")
	if !ok {
		return false
	}
	parts := strings.Split(rest, "/")
	if len(parts) == 4 && parts[2] == "git" && parts[3] == "refs" && r.Method == http.MethodPost {
		h.createRef(w, r, parts[0], parts[1])
		return true
	}
	if len(parts) < 3 || parts[2] != "pulls" || len(parts) > 4 {
		return false
	}
	owner, err1 := url.PathUnescape(parts[0])
	repo, err2 := url.PathUnescape(parts[1])
	if err1 != nil || err2 != nil {
		writeJSON(w, http.StatusNotFound, apiErr("Not Found"))
		return true
	}
	if len(parts) == 3 {
		switch r.Method {
		case http.MethodGet:
			prs, err := h.ListPRs(r.Context(), owner, repo, r.URL.Query().Get("state"))
			if err != nil {
				writeError(w, err)
				return true
			}
			out := make([]map[string]any, 0, len(prs))
			for _, pr := range prs {
				out = append(out, prJSON(r, pr))
			}
			writeJSON(w, http.StatusOK, out)
		case http.MethodPost:
			var body struct{ Title, Head, Base string }
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
				writeJSON(w, http.StatusBadRequest, apiErr("Problems parsing JSON"))
				return true
			}
			// GitHub accepts "owner:branch" for head; same-repository only here.
			if o, b, ok := strings.Cut(body.Head, ":"); ok && strings.EqualFold(o, owner) {
				body.Head = b
			}
			pr, err := h.OpenPR(r.Context(), owner, repo, body.Head, body.Base, body.Title)
			if err != nil {
				writeError(w, err)
				return true
			}
			writeJSON(w, http.StatusCreated, prJSON(r, pr))
		default:
			writeJSON(w, http.StatusNotFound, apiErr("Not Found"))
		}
		return true
	}
	n, err := strconv.Atoi(parts[3])
	if err != nil || n <= 0 {
		writeJSON(w, http.StatusNotFound, apiErr("Not Found"))
		return true
	}
	switch r.Method {
	case http.MethodGet:
		pr, err := h.GetPR(r.Context(), owner, repo, n)
		if err != nil {
			writeError(w, err)
			return true
		}
		writeJSON(w, http.StatusOK, prJSON(r, pr))
	case http.MethodPatch:
		var body struct {
			State *string `json:"state"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, apiErr("Problems parsing JSON"))
			return true
		}
		if body.State == nil || *body.State != StateClosed {
			writeJSON(w, http.StatusUnprocessableEntity, apiErr("Validation Failed: only {\"state\":\"closed\"} is supported"))
			return true
		}
		pr, err := h.ClosePR(r.Context(), owner, repo, n)
		if err != nil {
			writeError(w, err)
			return true
		}
		writeJSON(w, http.StatusOK, prJSON(r, pr))
	default:
		writeJSON(w, http.StatusNotFound, apiErr("Not Found"))
	}
	return true
}

// createRef is POST /repos/{o}/{r}/git/refs {"ref": "refs/heads/<b>", "sha"}.
func (h *Host) createRef(w http.ResponseWriter, r *http.Request, owner, repo string) {
	owner, err1 := url.PathUnescape(owner)
	repo, err2 := url.PathUnescape(repo)
	var body struct{ Ref, SHA string }
	if err1 != nil || err2 != nil {
		writeJSON(w, http.StatusNotFound, apiErr("Not Found"))
		return
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, apiErr("Problems parsing JSON"))
		return
	}
	branch, ok := strings.CutPrefix(body.Ref, "refs/heads/")
	if !ok {
		writeJSON(w, http.StatusUnprocessableEntity, apiErr("Reference name must start with refs/heads/"))
		return
	}
	if err := h.CreateBranch(r.Context(), owner, repo, branch, body.SHA); err != nil {
		if errors.Is(err, ErrExists) {
			writeJSON(w, http.StatusUnprocessableEntity, apiErr("Reference already exists"))
			return
		}
		writeError(w, err)
		return
	}
	api := base(r) + APIPrefix + "api/v3/repos/" + owner + "/" + repo
	writeJSON(w, http.StatusCreated, map[string]any{
		"ref":    body.Ref,
		"url":    api + "/git/" + body.Ref,
		"object": map[string]any{"type": "commit", "sha": body.SHA, "url": api + "/git/commits/" + body.SHA},
	})
}

func apiErr(msg string) map[string]string {
	return map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest/pulls/pulls"}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError maps host errors to GitHub's statuses.
func writeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrInvalid):
		writeJSON(w, http.StatusUnprocessableEntity, apiErr("Validation Failed: "+err.Error()))
	case errors.Is(err, ErrExists):
		writeJSON(w, http.StatusUnprocessableEntity, apiErr("Validation Failed: "+err.Error()))
	case errors.Is(err, ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiErr("Not Found"))
	default:
		writeJSON(w, http.StatusInternalServerError, apiErr("Server Error"))
	}
}

func base(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// prJSON is the subset of GitHub's pull request object the project reads.
func prJSON(r *http.Request, pr PR) map[string]any {
	web := base(r) + "/" + pr.Owner + "/" + pr.Repo
	api := base(r) + APIPrefix + "api/v3/repos/" + pr.Owner + "/" + pr.Repo
	repo := map[string]any{
		"name": pr.Repo, "full_name": pr.Owner + "/" + pr.Repo,
		"owner": map[string]any{"login": pr.Owner},
	}
	return map[string]any{
		"url":        fmt.Sprintf("%s/pulls/%d", api, pr.Number),
		"html_url":   fmt.Sprintf("%s/pull/%d", web, pr.Number),
		"number":     pr.Number,
		"state":      pr.State,
		"title":      pr.Title,
		"head":       map[string]any{"ref": pr.HeadRef, "sha": pr.HeadSHA, "label": pr.Owner + ":" + pr.HeadRef, "repo": repo},
		"base":       map[string]any{"ref": pr.BaseRef, "label": pr.Owner + ":" + pr.BaseRef, "repo": repo},
		"merged":     pr.Merged,
		"merged_at":  nil,
		"created_at": ts(pr.CreatedAt),
		"updated_at": ts(pr.UpdatedAt),
		"closed_at":  ts(pr.ClosedAt),
	}
}

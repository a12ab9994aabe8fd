package contentsapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// BasePath is where go-github's WithEnterpriseURLs puts the REST API.
const BasePath = "/api/v3"

const docsURL = "https://docs.github.com/rest/repos/contents"

// Option configures NewServer.
type Option func(*server)

// WithToken makes the server require `Authorization: Bearer <token>` (or
// `token <token>`) on every request, answering 401 "Bad credentials" otherwise.
// It may be given several times.
func WithToken(token string) Option {
	return func(s *server) { s.tokens[token] = true }
}

// WithReadOnlyToken accepts token for reads and answers writes with 403, the
// way GitHub treats a token without contents:write.
func WithReadOnlyToken(token string) Option {
	return func(s *server) { s.tokens[token] = false }
}

// WithCommitLatency holds every write for d between reading the branch head
// and committing, as GitHub's own processing does, so concurrent writers
// really race and see 409s.
func WithCommitLatency(d time.Duration) Option {
	return func(s *server) { s.latency = d }
}

// WithCommitter sets the signature used when a write names no committer
// (GitHub uses the token's user).
func WithCommitter(sig Signature) Option {
	return func(s *server) { s.committer = sig }
}

// WithFaults lets a test answer chosen requests with an error (rate limits,
// Retry-After, 5xx) before the server looks at them; f returns nil to let a
// request through. f is called concurrently.
func WithFaults(f func(*http.Request) *Fault) Option {
	return func(s *server) { s.faults = f }
}

// Fault is an error response injected by WithFaults.
type Fault struct {
	Status           int
	Message          string
	DocumentationURL string
	Header           http.Header
}

// SecondaryRateLimit is GitHub's secondary ("abuse") rate limit answer: 403,
// a documentation_url ending in secondary-rate-limits, and Retry-After.
func SecondaryRateLimit(retryAfterSeconds int) Fault {
	return Fault{
		Status:           http.StatusForbidden,
		Message:          "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
		DocumentationURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		Header:           http.Header{"Retry-After": {fmt.Sprint(retryAfterSeconds)}},
	}
}

// PrimaryRateLimit is GitHub's primary rate limit answer: 403 with
// x-ratelimit-remaining: 0 and the reset time in epoch seconds.
func PrimaryRateLimit(reset time.Time) Fault {
	return Fault{
		Status:           http.StatusForbidden,
		Message:          "API rate limit exceeded for installation ID 1.",
		DocumentationURL: "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
		Header: http.Header{
			"X-Ratelimit-Limit":     {"5000"},
			"X-Ratelimit-Remaining": {"0"},
			"X-Ratelimit-Used":      {"5000"},
			"X-Ratelimit-Reset":     {fmt.Sprint(reset.Unix())},
			"X-Ratelimit-Resource":  {"core"},
		},
	}
}

// TooManyRequests is a 429 with Retry-After.
func TooManyRequests(retryAfterSeconds int) Fault {
	return Fault{
		Status:  http.StatusTooManyRequests,
		Message: "Too Many Requests",
		Header:  http.Header{"Retry-After": {fmt.Sprint(retryAfterSeconds)}},
	}
}

// ServerError is a 5xx as GitHub sends them under load.
func ServerError(status int) Fault {
	return Fault{Status: status, Message: http.StatusText(status)}
}

// FirstN returns a WithFaults function that answers the first n requests
// for which match returns true with f, and lets everything else through.
func FirstN(n int, match func(*http.Request) bool, f Fault) func(*http.Request) *Fault {
	left := make(chan struct{}, n)
	for range n {
		left <- struct{}{}
	}
	return func(r *http.Request) *Fault {
		if match != nil && !match(r) {
			return nil
		}
		select {
		case <-left:
			return &f
		default:
			return nil
		}
	}
}

// IsWrite matches PUT and DELETE requests (for FirstN).
func IsWrite(r *http.Request) bool {
	return r.Method == http.MethodPut || r.Method == http.MethodDelete
}

type server struct {
	store     Store
	tokens    map[string]bool // token -> may write
	latency   time.Duration
	committer Signature
	faults    func(*http.Request) *Fault
	now       func() time.Time
}

// NewServer serves, under BasePath, the part of GitHub's REST API that
// updatefile.Apply uses, on top of store:
//
//	GET    /repos/{owner}/{repo}
//	GET    /repos/{owner}/{repo}/branches/{branch}
//	GET    /repos/{owner}/{repo}/contents/{path}?ref=
//	PUT    /repos/{owner}/{repo}/contents/{path}
//	DELETE /repos/{owner}/{repo}/contents/{path}
//
// Point go-github at it with client.WithEnterpriseURLs(srv.URL, srv.URL).
func NewServer(store Store, opts ...Option) http.Handler {
	s := &server{
		store:     store,
		tokens:    map[string]bool{},
		committer: Signature{Name: "contentsapi", Email: "contentsapi@localhost"},
		now:       time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

type apiError struct {
	status  int
	message string
	doc     string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.message) }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, message: fmt.Sprintf(format, args...), doc: docsURL}
}

var notFound = &apiError{status: http.StatusNotFound, message: "Not Found", doc: docsURL}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "4999")
	h.Set("X-RateLimit-Reset", fmt.Sprint(s.now().Add(time.Hour).Unix()))
	h.Set("X-RateLimit-Resource", "core")

	status, body := s.serve(h, r)
	if e, ok := body.(*apiError); ok {
		status, body = e.status, map[string]string{"message": e.message, "documentation_url": e.doc}
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *server) serve(h http.Header, r *http.Request) (int, any) {
	if len(s.tokens) > 0 {
		canWrite, ok := s.tokens[bearer(r.Header.Get("Authorization"))]
		if !ok {
			return 0, &apiError{status: http.StatusUnauthorized, message: "Bad credentials", doc: "https://docs.github.com/rest"}
		}
		if !canWrite && r.Method != http.MethodGet && r.Method != http.MethodHead {
			return 0, errorf(http.StatusForbidden, "Resource not accessible by personal access token")
		}
	}
	if s.faults != nil {
		if f := s.faults(r); f != nil {
			for k, vs := range f.Header {
				h[http.CanonicalHeaderKey(k)] = vs // replaces the default rate-limit headers
			}
			return 0, &apiError{status: f.Status, message: f.Message, doc: f.DocumentationURL}
		}
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), BasePath+"/repos/")
	if !ok {
		return 0, notFound
	}
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 2 {
		return 0, notFound
	}
	owner, err1 := url.PathUnescape(parts[0])
	repo, err2 := url.PathUnescape(parts[1])
	if err1 != nil || err2 != nil || owner == "" || repo == "" {
		return 0, notFound
	}
	ctx := r.Context()
	switch {
	case len(parts) == 2 && r.Method == http.MethodGet:
		return s.getRepo(ctx, r, owner, repo)
	case len(parts) == 4 && parts[2] == "branches" && r.Method == http.MethodGet:
		branch, err := url.PathUnescape(parts[3])
		if err != nil {
			return 0, notFound
		}
		return s.getBranch(ctx, r, owner, repo, branch)
	case len(parts) == 4 && parts[2] == "contents":
		path, err := cleanPath(parts[3])
		if err != nil {
			return 0, err
		}
		switch r.Method {
		case http.MethodGet:
			return s.getContents(ctx, r, owner, repo, path, r.URL.Query().Get("ref"))
		case http.MethodPut, http.MethodDelete:
			return s.write(ctx, r, owner, repo, path)
		}
	}
	return 0, notFound
}

func bearer(h string) string {
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return t
	}
	if t, ok := strings.CutPrefix(h, "token "); ok {
		return t
	}
	return ""
}

// cleanPath unescapes a contents path and refuses what GitHub refuses.
func cleanPath(escaped string) (string, *apiError) {
	p, err := url.PathUnescape(strings.TrimSuffix(escaped, "/"))
	if err != nil || p == "" {
		return "", notFound
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", errorf(http.StatusUnprocessableEntity, "path %q is not a valid file path", p)
		}
	}
	return p, nil
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *server) getRepo(ctx context.Context, r *http.Request, owner, repo string) (int, any) {
	info, err := s.store.Repo(ctx, owner, repo)
	if err != nil {
		return 0, storeError(err, notFound)
	}
	api := baseURL(r) + BasePath
	return http.StatusOK, map[string]any{
		"name":           info.Name,
		"full_name":      info.Owner + "/" + info.Name,
		"owner":          map[string]any{"login": info.Owner, "type": "Organization"},
		"private":        false,
		"default_branch": info.DefaultBranch,
		"url":            api + "/repos/" + info.Owner + "/" + info.Name,
		"html_url":       baseURL(r) + "/" + info.Owner + "/" + info.Name,
	}
}

func (s *server) getBranch(ctx context.Context, r *http.Request, owner, repo, branch string) (int, any) {
	head, err := s.store.Head(ctx, owner, repo, branch)
	if err != nil {
		return 0, storeError(err, errorf(http.StatusNotFound, "Branch not found"))
	}
	api := baseURL(r) + BasePath + "/repos/" + owner + "/" + repo
	return http.StatusOK, map[string]any{
		"name":      branch,
		"commit":    map[string]any{"sha": head, "url": api + "/commits/" + head},
		"protected": false,
		"_links":    map[string]any{"self": api + "/branches/" + url.PathEscape(branch)},
	}
}

func (s *server) getContents(ctx context.Context, r *http.Request, owner, repo, path, ref string) (int, any) {
	info, err := s.store.Repo(ctx, owner, repo)
	if err != nil {
		return 0, storeError(err, notFound)
	}
	if ref == "" {
		ref = info.DefaultBranch
	}
	f, err := s.store.ReadFile(ctx, owner, repo, ref, path)
	if errors.Is(err, ErrNotFound) && !isCommitSHA(ref) {
		if _, herr := s.store.Head(ctx, owner, repo, ref); errors.Is(herr, ErrNotFound) {
			return 0, errorf(http.StatusNotFound, "No commit found for the ref %s", ref)
		}
	}
	if err != nil {
		return 0, storeError(err, notFound)
	}
	body := fileJSON(r, info, ref, f)
	body["encoding"] = "base64"
	body["content"] = wrappedBase64(f.Content)
	return http.StatusOK, body
}

func isCommitSHA(ref string) bool {
	if len(ref) != 40 {
		return false
	}
	for _, c := range ref {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// wrappedBase64 encodes like GitHub: lines of 60 characters, each ending in \n.
func wrappedBase64(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(enc) > 60 {
		sb.WriteString(enc[:60])
		sb.WriteByte('\n')
		enc = enc[60:]
	}
	if enc != "" {
		sb.WriteString(enc)
		sb.WriteByte('\n')
	}
	return sb.String()
}

func fileJSON(r *http.Request, info Repository, ref string, f File) map[string]any {
	api := baseURL(r) + BasePath + "/repos/" + info.Owner + "/" + info.Name
	html := baseURL(r) + "/" + info.Owner + "/" + info.Name + "/blob/" + ref + "/" + f.Path
	self := api + "/contents/" + f.Path + "?ref=" + url.QueryEscape(ref)
	git := api + "/git/blobs/" + f.SHA
	name := f.Path[strings.LastIndexByte(f.Path, '/')+1:]
	return map[string]any{
		"type":         "file",
		"name":         name,
		"path":         f.Path,
		"sha":          f.SHA,
		"size":         len(f.Content),
		"url":          self,
		"git_url":      git,
		"html_url":     html,
		"download_url": baseURL(r) + "/raw/" + info.Owner + "/" + info.Name + "/" + ref + "/" + f.Path,
		"_links":       map[string]any{"self": self, "git": git, "html": html},
	}
}

type signatureJSON struct {
	Name  string     `json:"name"`
	Email string     `json:"email"`
	Date  *time.Time `json:"date,omitempty"`
}

type writeBody struct {
	Message   *string        `json:"message"`
	Content   *string        `json:"content"`
	SHA       string         `json:"sha"`
	Branch    string         `json:"branch"`
	Committer *signatureJSON `json:"committer"`
	Author    *signatureJSON `json:"author"`
}

func (s *server) sig(j *signatureJSON, fallback Signature) Signature {
	if j == nil {
		return fallback
	}
	out := Signature{Name: j.Name, Email: j.Email, When: fallback.When}
	if j.Date != nil {
		out.When = *j.Date
	}
	return out
}

// write is PUT (create or update) and DELETE. The order of checks follows
// GitHub: request body, repository, branch, then the file's sha precondition
// against the head it reads, then the commit, which fails with 409 if another
// commit landed on the branch in between.
func (s *server) write(ctx context.Context, r *http.Request, owner, repo, path string) (int, any) {
	del := r.Method == http.MethodDelete
	var body writeBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return 0, errorf(http.StatusBadRequest, "Problems parsing JSON")
	}
	if body.Message == nil || *body.Message == "" {
		return 0, errorf(http.StatusUnprocessableEntity, "Invalid request.\n\n\"message\" wasn't supplied.")
	}
	var content []byte
	if !del {
		if body.Content == nil {
			return 0, errorf(http.StatusUnprocessableEntity, "Invalid request.\n\n\"content\" wasn't supplied.")
		}
		var err error
		if content, err = base64.StdEncoding.DecodeString(*body.Content); err != nil {
			return 0, errorf(http.StatusUnprocessableEntity, "content is not valid Base64")
		}
	} else if body.SHA == "" {
		return 0, errorf(http.StatusUnprocessableEntity, "Invalid request.\n\n\"sha\" wasn't supplied.")
	}
	info, err := s.store.Repo(ctx, owner, repo)
	if err != nil {
		return 0, storeError(err, notFound)
	}
	branch := body.Branch
	if branch == "" {
		branch = info.DefaultBranch
	}
	parent, err := s.store.Head(ctx, owner, repo, branch)
	if err != nil {
		return 0, storeError(err, errorf(http.StatusNotFound, "Branch %s not found", branch))
	}
	cur, err := s.store.ReadFile(ctx, owner, repo, parent, path)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, storeError(err, nil)
	}
	switch {
	case del && !exists:
		return 0, notFound
	case !del && exists && body.SHA == "":
		return 0, errorf(http.StatusUnprocessableEntity, "Invalid request.\n\n\"sha\" wasn't supplied.")
	case exists && body.SHA != cur.SHA, !exists && body.SHA != "":
		return 0, errorf(http.StatusConflict, "%s does not match %s", path, body.SHA)
	}
	if s.latency > 0 {
		t := time.NewTimer(s.latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, errorf(http.StatusServiceUnavailable, "request cancelled")
		case <-t.C:
		}
	}
	now := s.now().UTC().Truncate(time.Second)
	committer := s.committer
	committer.When = now
	committer = s.sig(body.Committer, committer)
	change := Change{
		Path:      path,
		Content:   content,
		Message:   *body.Message,
		Committer: committer,
		Author:    s.sig(body.Author, committer),
	}
	if !del && change.Content == nil {
		change.Content = []byte{} // an empty file, not a delete
	}
	res, err := s.store.Commit(ctx, owner, repo, branch, parent, change)
	if errors.Is(err, ErrStale) {
		head, _ := s.store.Head(ctx, owner, repo, branch)
		return 0, errorf(http.StatusConflict, "is at %s but expected %s", head, parent)
	}
	if err != nil {
		return 0, storeError(err, notFound)
	}
	api := baseURL(r) + BasePath + "/repos/" + info.Owner + "/" + info.Name
	commit := map[string]any{
		"sha":       res.SHA,
		"url":       api + "/git/commits/" + res.SHA,
		"html_url":  baseURL(r) + "/" + info.Owner + "/" + info.Name + "/commit/" + res.SHA,
		"author":    sigJSON(change.Author),
		"committer": sigJSON(change.Committer),
		"message":   change.Message,
		"tree":      map[string]any{"sha": res.TreeSHA, "url": api + "/git/trees/" + res.TreeSHA},
		"parents": []any{map[string]any{
			"sha": res.Parent, "url": api + "/git/commits/" + res.Parent,
			"html_url": baseURL(r) + "/" + info.Owner + "/" + info.Name + "/commit/" + res.Parent,
		}},
		"verification": map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil},
	}
	if del {
		return http.StatusOK, map[string]any{"content": nil, "commit": commit}
	}
	status := http.StatusOK
	if !exists {
		status = http.StatusCreated
	}
	f := File{Path: path, Content: change.Content, SHA: BlobSHA(change.Content)}
	return status, map[string]any{"content": fileJSON(r, info, branch, f), "commit": commit}
}

func sigJSON(s Signature) map[string]any {
	return map[string]any{"name": s.Name, "email": s.Email, "date": s.When.UTC().Format(time.RFC3339)}
}

// storeError maps a Store error to GitHub's answer: ErrNotFound to nf, any
// other failure of the backing store to a 500 (which clients retry).
func storeError(err error, nf *apiError) *apiError {
	if errors.Is(err, ErrNotFound) && nf != nil {
		return nf
	}
	return errorf(http.StatusInternalServerError, "Server Error")
}

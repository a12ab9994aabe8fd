package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/ondemand"
	"preview-environments/service/artifact"
)

// On-demand environments (`previewctl sandbox env ...`): the sandbox runs
// `previewctl env` as ondemand.yml does in production. The file is checked
// against the manager directory of the default branch and committed to it
// (or deleted) through the update-file-action's Apply and the GitHub
// stand-in's contents API, the path the CI steps write PR files by; the
// git host's push then reaches the Spacelift stand-in as any other.

// OnDemandView is an on-demand environment as the sandbox's API shows it.
type OnDemandView struct {
	envfile.Environment
	URL string `json:"url"`
	// Serving is the code version the data plane serves for it ("" before
	// its stack has deployed, and after it is destroyed).
	Serving string `json:"serving,omitempty"`
	// Op is what a create, extend or delete did: created, updated,
	// deleted, absent (with the commit).
	Op string `json:"op,omitempty"`
}

// OnDemandRequest is the body of POST /api/ondemand.
type OnDemandRequest struct {
	Name        string `json:"name"`
	CodeVersion string `json:"code_version"`
	InfraBranch string `json:"infra_branch"`
	// TTL is a Go duration ("48h"); empty is envfile.DefaultOnDemandTTL.
	TTL string `json:"ttl"`
}

// OnDemandAPI is what the on-demand endpoints call: *Platform, or a fake.
type OnDemandAPI interface {
	CreateOnDemand(ctx context.Context, req OnDemandRequest) (OnDemandView, error)
	ExtendOnDemand(ctx context.Context, name string, ttl time.Duration) (OnDemandView, error)
	DeleteOnDemand(ctx context.Context, name string) (OnDemandView, error)
	OnDemand(ctx context.Context) ([]OnDemandView, error)
}

// mountOnDemand adds the on-demand endpoints to the sandbox's API.
func (p *Platform) mountOnDemand() { MountOnDemand(p.SB.Handle, p) }

// MountOnDemand registers, through handle:
//
//	GET    /api/ondemand                 [OnDemandView]
//	POST   /api/ondemand                 OnDemandRequest -> 201 OnDemandView | 400 | 409 exists
//	POST   /api/ondemand/{name}/extend   {"ttl": "24h"} -> OnDemandView | 400 | 404
//	DELETE /api/ondemand/{name}          OnDemandView (op deleted or absent) | 400
//
// Names, TTLs, code versions and branches are validated as the CLI does
// (400 with the field named) before anything is read or written.
func MountOnDemand(handle func(pattern string, h http.Handler), api OnDemandAPI) {
	handle("GET /api/ondemand", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := api.OnDemand(r.Context())
		replyOnDemand(w, http.StatusOK, v, err)
	}))
	handle("POST /api/ondemand", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req OnDemandRequest
		if !decode(w, r, &req) {
			return
		}
		if err := envfile.ValidateName(req.Name); err != nil {
			replyOnDemand(w, 0, nil, err)
			return
		}
		if _, err := parseTTL(req.TTL); err != nil {
			replyOnDemand(w, 0, nil, err)
			return
		}
		v, err := api.CreateOnDemand(r.Context(), req)
		replyOnDemand(w, http.StatusCreated, v, err)
	}))
	handle("POST /api/ondemand/{name}/extend", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if err := envfile.ValidateName(name); err != nil {
			replyOnDemand(w, 0, nil, err)
			return
		}
		var req struct {
			TTL string `json:"ttl"`
		}
		if !decode(w, r, &req) {
			return
		}
		ttl, err := parseTTL(req.TTL)
		if err != nil {
			replyOnDemand(w, 0, nil, err)
			return
		}
		v, err := api.ExtendOnDemand(r.Context(), name, ttl)
		replyOnDemand(w, http.StatusOK, v, err)
	}))
	handle("DELETE /api/ondemand/{name}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if err := envfile.ValidateName(name); err != nil {
			replyOnDemand(w, 0, nil, err)
			return
		}
		v, err := api.DeleteOnDemand(r.Context(), name)
		replyOnDemand(w, http.StatusOK, v, err)
	}))
}

// parseTTL reads a TTL as the CLI's --ttl takes it.
func parseTTL(s string) (time.Duration, error) {
	if s == "" {
		return envfile.DefaultOnDemandTTL, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, &envfile.FieldError{Field: "ttl", Value: s, Reason: "must be a duration such as 72h or 30m"}
	}
	if err := envfile.ValidateTTL(d); err != nil {
		return 0, err
	}
	return d, nil
}

// replyOnDemand answers with v, or with the error and the status its kind
// calls for: refused input 400, exists or collision 409, unknown 404.
func replyOnDemand(w http.ResponseWriter, code int, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		var fe *envfile.FieldError
		switch {
		case errors.As(err, &fe):
			code = http.StatusBadRequest
		case errors.Is(err, ondemand.ErrExists), errors.Is(err, envfile.ErrCollision):
			code = http.StatusConflict
		case errors.Is(err, ondemand.ErrNotFound):
			code = http.StatusNotFound
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

// onDemandManager checks out manager/ of the default branch (what render
// checks against in preview.yml) and writes through the contents API.
func (p *Platform) onDemandManager(ctx context.Context) (ondemand.Manager, func(), error) {
	tmp, err := os.MkdirTemp(filepath.Join(p.cfg.Sandbox.DataDir, "tmp"), "ondemand-*")
	if err != nil {
		return ondemand.Manager{}, nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	if err := p.Git.Export(ctx, p.cfg.Owner, p.cfg.Repo, DefaultBranch, "manager", tmp); err != nil {
		cleanup()
		return ondemand.Manager{}, nil, fmt.Errorf("check out manager/: %w", err)
	}
	return ondemand.Manager{Dir: filepath.Join(tmp, "manager"), Store: ondemand.RepoStore{
		Client: p.gh, Owner: p.cfg.Owner, Repo: p.cfg.Repo, Branch: DefaultBranch, PathPrefix: "manager",
	}}, cleanup, nil
}

// CreateOnDemand is `previewctl env create` on the sandbox. A code version
// other than latest must have its artifact in the bucket already (a PR
// that changed service/ at that commit built it), as in production.
func (p *Platform) CreateOnDemand(ctx context.Context, req OnDemandRequest) (OnDemandView, error) {
	ttl, err := parseTTL(req.TTL)
	if err != nil {
		return OnDemandView{}, err
	}
	if req.CodeVersion == "" {
		req.CodeVersion = "latest"
	}
	if req.InfraBranch == "" {
		req.InfraBranch = DefaultBranch
	}
	// Validate before anything is read: the artifact check needs a valid version.
	if _, err := envfile.NewOnDemand(p.cfg.Service, req.Name, req.CodeVersion, req.InfraBranch, time.Now(), ttl); err != nil {
		return OnDemandView{}, err
	}
	if err := p.checkArtifact(ctx, req.CodeVersion); err != nil {
		return OnDemandView{}, err
	}
	m, cleanup, err := p.onDemandManager(ctx)
	if err != nil {
		return OnDemandView{}, err
	}
	defer cleanup()
	res, err := m.Create(ctx, ondemand.CreateRequest{Service: p.cfg.Service, Name: req.Name, CodeVersion: req.CodeVersion, InfraBranch: req.InfraBranch, TTL: ttl}, time.Now())
	if err != nil {
		return OnDemandView{}, err
	}
	p.cfg.Log.Info("ondemand", "name", res.Env.Name, "id", res.Env.ID, "op", res.Op)
	return p.onDemandView(res.Env, res.Op), nil
}

// ExtendOnDemand is `previewctl env extend` on the sandbox.
func (p *Platform) ExtendOnDemand(ctx context.Context, name string, ttl time.Duration) (OnDemandView, error) {
	m, cleanup, err := p.onDemandManager(ctx)
	if err != nil {
		return OnDemandView{}, err
	}
	defer cleanup()
	res, err := m.Extend(ctx, p.cfg.Service, name, ttl, time.Now())
	if err != nil {
		return OnDemandView{}, err
	}
	p.cfg.Log.Info("ondemand", "name", res.Env.Name, "id", res.Env.ID, "op", res.Op, "expires", res.Env.ExpiresAt)
	return p.onDemandView(res.Env, res.Op), nil
}

// DeleteOnDemand is `previewctl env delete` on the sandbox: the file goes,
// the manager run deletes the stack and its destructor destroys.
func (p *Platform) DeleteOnDemand(ctx context.Context, name string) (OnDemandView, error) {
	m, cleanup, err := p.onDemandManager(ctx)
	if err != nil {
		return OnDemandView{}, err
	}
	defer cleanup()
	res, err := m.Delete(ctx, p.cfg.Service, name)
	if err != nil {
		return OnDemandView{}, err
	}
	p.cfg.Log.Info("ondemand", "name", res.Env.Name, "id", res.Env.ID, "op", res.Op)
	return p.onDemandView(res.Env, res.Op), nil
}

// OnDemand lists the on-demand environments on the default branch.
func (p *Platform) OnDemand(ctx context.Context) ([]OnDemandView, error) {
	m, cleanup, err := p.onDemandManager(ctx)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	envs, errs := ondemand.List(m.Dir, p.cfg.Service)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%d environment files could not be read; first: %w", len(errs), errs[0])
	}
	out := []OnDemandView{}
	for _, e := range envs {
		out = append(out, p.onDemandView(e, ""))
	}
	return out, nil
}

func (p *Platform) onDemandView(e envfile.Environment, op string) OnDemandView {
	v := OnDemandView{Environment: e, Op: op}
	if p.SB == nil { // the unit tests run the control plane alone
		return v
	}
	v.URL = p.EnvironmentURL(e.ID)
	for _, d := range p.SB.Environments() {
		if d.ID == e.ID {
			v.Serving = d.Version
		}
	}
	return v
}

// checkArtifact refuses a commit sha whose <sha>.zip is not in the bucket:
// the environment's function could never start.
func (p *Platform) checkArtifact(ctx context.Context, codeVersion string) error {
	if codeVersion == "latest" || p.s3 == nil || p.SB == nil {
		return nil
	}
	key, err := artifact.Key(codeVersion)
	if err != nil {
		return err
	}
	if _, err := p.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(p.SB.Bucket()), Key: aws.String(key)}); err != nil {
		return &envfile.FieldError{Field: "code-version", Value: codeVersion,
			Reason: fmt.Sprintf("no artifact %s in bucket %s: open a PR that changes service/ at that commit, or use latest", key, p.SB.Bucket())}
	}
	return nil
}

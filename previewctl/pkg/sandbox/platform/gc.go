package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path"
	"strings"
	"time"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/gc"
	"preview-environments/previewctl/pkg/prstate"
)

// Garbage collection in the sandbox is gc.yml's job on the sandbox's own
// manager repository: the same pass (`previewctl gc`'s package), PR states
// from the GitHub stand-in's pulls API, deletions through the
// update-file-action core (one commit per file on main), the same
// mass-deletion guard. `previewctl sandbox gc` runs one pass; Serve runs
// one every Config.GCInterval, as the daily schedule does in production,
// so an on-demand environment's TTL ends it while the sandbox runs.

// DefaultGCWarnWithin is how far ahead a pass warns about on-demand
// environments about to expire (gc.yml's --warn-within).
const DefaultGCWarnWithin = 24 * time.Hour

// GCRequest is the body of POST /api/gc.
type GCRequest struct {
	DryRun bool `json:"dry_run"`
	Force  bool `json:"force"`
	// WarnWithin is a Go duration; "" is DefaultGCWarnWithin, "0s" none.
	WarnWithin string `json:"warn_within"`
	// Now judges expiry as of an RFC 3339 time ("" is the clock), as
	// `previewctl gc --now` does: to ask what a later pass would delete.
	Now string `json:"now"`
}

// GCEnv is one environment a pass deleted, would delete, or warns about.
type GCEnv struct {
	ID        string    `json:"id"`
	Key       string    `json:"key"`
	Name      string    `json:"name,omitempty"`
	File      string    `json:"file"`
	Reason    string    `json:"reason,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// GCReport is a pass's outcome. Log holds its progress lines as
// `previewctl gc` prints them.
type GCReport struct {
	At          time.Time `json:"at"`
	DryRun      bool      `json:"dry_run"`
	Total       int       `json:"total"`
	Deleted     []GCEnv   `json:"deleted"`
	WouldDelete []GCEnv   `json:"would_delete"`
	Expiring    []GCEnv   `json:"expiring"`
	Log         []string  `json:"log"`
	// Error is why the pass failed (after doing what was safe); Guard is
	// set when the mass-deletion guard stopped it (nothing deleted).
	Error string `json:"error,omitempty"`
	Guard bool   `json:"guard,omitempty"`
}

// GC runs one pass over main's environment files.
func (p *Platform) GC(ctx context.Context, req GCRequest) (GCReport, error) {
	opts, err := gcOptions(req, time.Now())
	if err != nil {
		return GCReport{}, err
	}
	// One pass at a time: two would race to delete the same files (the
	// update-file-action's conflict retries make that safe, but the
	// reports would each claim the other's deletions).
	p.gcMu.Lock()
	defer p.gcMu.Unlock()
	m, cleanup, err := p.onDemandManager(ctx)
	if err != nil {
		return GCReport{}, err
	}
	defer cleanup()
	var log bytes.Buffer
	opts.Progress = &log
	opts.Lookup = prstate.GitHub{Client: p.gh}
	opts.Deleter = gc.RepoDeleter{Client: p.gh, Owner: p.cfg.Owner, Repo: p.cfg.Repo, Branch: DefaultBranch, PathPrefix: "manager"}
	envs, broken := envfile.ReadManager(m.Dir, "")
	rep, err := gc.Run(ctx, envs, broken, opts)
	out := GCReport{At: opts.Now, DryRun: req.DryRun, Total: rep.Total, Deleted: []GCEnv{}, WouldDelete: []GCEnv{}, Expiring: []GCEnv{}, Log: []string{}}
	if l := strings.TrimRight(log.String(), "\n"); l != "" {
		out.Log = strings.Split(l, "\n")
	}
	reasons := map[string]string{}
	for _, d := range rep.Decisions {
		reasons[d.Env.Key()] = d.Reason
		if d.Delete && req.DryRun && !errors.Is(err, gc.ErrGuard) {
			out.WouldDelete = append(out.WouldDelete, gcEnv(d.Env, d.Reason))
		}
	}
	for _, e := range rep.Deleted {
		out.Deleted = append(out.Deleted, gcEnv(e, reasons[e.Key()]))
	}
	for _, e := range rep.Expiring {
		out.Expiring = append(out.Expiring, gcEnv(e, ""))
	}
	if err != nil {
		out.Error, out.Guard = err.Error(), errors.Is(err, gc.ErrGuard)
	}
	p.cfg.Log.Info("gc", "dry_run", req.DryRun, "total", out.Total, "deleted", len(out.Deleted), "expiring", len(out.Expiring), "err", out.Error)
	return out, nil
}

// gcOptions checks a request as `previewctl gc` checks its flags.
func gcOptions(req GCRequest, clock time.Time) (gc.Options, error) {
	opts := gc.Options{Now: clock, DryRun: req.DryRun, Force: req.Force, WarnWithin: DefaultGCWarnWithin}
	if req.WarnWithin != "" {
		d, err := time.ParseDuration(req.WarnWithin)
		if err != nil || d < 0 {
			return opts, &envfile.FieldError{Field: "warn_within", Value: req.WarnWithin, Reason: "must be a positive duration such as 24h, or 0s for no warnings"}
		}
		opts.WarnWithin = d
	}
	if req.Now != "" {
		t, err := time.Parse(time.RFC3339, req.Now)
		if err != nil {
			return opts, &envfile.FieldError{Field: "now", Value: req.Now, Reason: "must be an RFC 3339 time such as 2026-12-04T10:00:00Z"}
		}
		opts.Now = t
	}
	return opts, nil
}

func gcEnv(e envfile.Environment, reason string) GCEnv {
	return GCEnv{ID: e.ID, Key: e.Key(), Name: e.Name, File: path.Join("manager", e.Service, "environments", envfile.FileName(e)),
		Reason: reason, ExpiresAt: e.ExpiresAt}
}

// gcLoop runs a pass every interval until ctx ends; a failed pass is
// logged and the next one tries again, as a failed scheduled run would.
func (p *Platform) gcLoop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rep, err := p.GC(ctx, GCRequest{})
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil:
			p.cfg.Log.Error("scheduled gc", "err", err)
		case rep.Error != "":
			p.cfg.Log.Warn("scheduled gc", "err", rep.Error)
		}
	}
}

// MountGC registers, through handle:
//
//	POST /api/gc   GCRequest -> 200 GCReport | 400 (the field named) |
//	               409 GCReport (the mass-deletion guard stopped it) |
//	               500 GCReport (errors; what was safe was done)
func MountGC(handle func(pattern string, h http.Handler), run func(context.Context, GCRequest) (GCReport, error)) {
	handle("POST /api/gc", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req GCRequest
		if !decode(w, r, &req) {
			return
		}
		if _, err := gcOptions(req, time.Now()); err != nil {
			replyOnDemand(w, 0, nil, err)
			return
		}
		rep, err := run(r.Context(), req)
		if err != nil {
			replyOnDemand(w, 0, nil, err)
			return
		}
		code := http.StatusOK
		switch {
		case rep.Guard:
			code = http.StatusConflict
		case rep.Error != "":
			code = http.StatusInternalServerError
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(rep)
	}))
}

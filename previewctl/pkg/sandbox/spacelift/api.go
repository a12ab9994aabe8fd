package spacelift

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// The read API: what the CLI, the dashboard and the tests read of the
// engine, as methods and over HTTP (Handler). What runs call is the
// embedded providerapi.Backend's ProviderHandler.

// Stacks lists every stack with its variables and attachments.
func (e *Engine) Stacks(ctx context.Context) ([]Stack, error) { return e.st.Stacks(ctx) }

// Stack returns one stack, or an error wrapping ErrNotFound.
func (e *Engine) Stack(ctx context.Context, id string) (Stack, error) { return e.st.Stack(ctx, id) }

// Runs lists a stack's runs (every stack's for ""), newest first.
func (e *Engine) Runs(ctx context.Context, stackID string, limit int) ([]Run, error) {
	return e.st.Runs(ctx, stackID, limit)
}

// Run returns one run, or an error wrapping ErrNotFound.
func (e *Engine) Run(ctx context.Context, id string) (Run, error) { return e.st.Run(ctx, id) }

// Logs returns a run's log.
func (e *Engine) Logs(ctx context.Context, runID string) ([]LogLine, error) {
	return e.st.Logs(ctx, runID)
}

// LogLines counts a run's log lines without reading them (a manager run
// over many environments logs tens of thousands).
func (e *Engine) LogLines(ctx context.Context, runID string) (int, error) {
	return e.st.LogLineCount(ctx, runID)
}

// Evaluations lists the latest policy decisions, newest first.
func (e *Engine) Evaluations(ctx context.Context, limit int) ([]PolicyEvaluation, error) {
	return e.st.Evaluations(ctx, limit)
}

// Outputs returns the outputs of a stack's last applied run.
func (e *Engine) Outputs(ctx context.Context, id string) (map[string]any, error) {
	return e.st.Outputs(ctx, id)
}

// TriggerRun queues a tracked run by hand, at the head of the stack's branch.
func (e *Engine) TriggerRun(ctx context.Context, stackID string) (Run, error) {
	s, err := e.st.Stack(ctx, stackID)
	if err != nil {
		return Run{}, err
	}
	head, err := e.src.Head(ctx, s.Repository, s.Branch)
	if err != nil {
		return Run{}, err
	}
	return e.enqueue(ctx, Run{StackID: s.ID, Type: RunTracked, Branch: s.Branch, Commit: head, TriggeredBy: "user", Cause: "triggered by hand"})
}

// Handler serves the engine's read API for the CLI and the dashboard:
//
//	GET  /stacks                 every stack
//	GET  /stacks/{id}/runs       a stack's runs
//	POST /stacks/{id}/runs       trigger a tracked run
//	GET  /runs?limit=N           the latest runs of every stack
//	GET  /runs/{id}              one run
//	GET  /runs/{id}/logs         its log
//	GET  /dependencies           every stack dependency with its references
//	GET  /evaluations?limit=N    the latest policy decisions
func (e *Engine) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stacks", func(w http.ResponseWriter, r *http.Request) {
		v, err := e.Stacks(r.Context())
		reply(w, v, err)
	})
	mux.HandleFunc("GET /stacks/{id}/runs", func(w http.ResponseWriter, r *http.Request) {
		v, err := e.Runs(r.Context(), r.PathValue("id"), limit(r, 50))
		reply(w, v, err)
	})
	mux.HandleFunc("POST /stacks/{id}/runs", func(w http.ResponseWriter, r *http.Request) {
		v, err := e.TriggerRun(r.Context(), r.PathValue("id"))
		reply(w, v, err)
	})
	mux.HandleFunc("GET /runs", func(w http.ResponseWriter, r *http.Request) {
		v, err := e.Runs(r.Context(), "", limit(r, 50))
		reply(w, v, err)
	})
	mux.HandleFunc("GET /runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		v, err := e.Run(r.Context(), r.PathValue("id"))
		reply(w, v, err)
	})
	mux.HandleFunc("GET /runs/{id}/logs", func(w http.ResponseWriter, r *http.Request) {
		v, err := e.Logs(r.Context(), r.PathValue("id"))
		reply(w, v, err)
	})
	mux.HandleFunc("GET /dependencies", func(w http.ResponseWriter, r *http.Request) {
		d, err := e.Dependencies(r.Context())
		reply(w, d, err)
	})
	mux.HandleFunc("GET /evaluations", func(w http.ResponseWriter, r *http.Request) {
		v, err := e.Evaluations(r.Context(), limit(r, 50))
		reply(w, v, err)
	})
	return mux
}

func limit(r *http.Request, def int) int {
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 && n <= 1000 {
		return n
	}
	return def
}

func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, ErrNotFound) {
			code = http.StatusNotFound
		}
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	_ = json.NewEncoder(w).Encode(v)
}

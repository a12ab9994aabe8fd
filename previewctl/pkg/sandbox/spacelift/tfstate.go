package spacelift

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The stand-in manages each stack's state as Spacelift does, served to
// tofu through OpenTofu's http backend (GET/POST/DELETE the state,
// LOCK/UNLOCK with lock info), in SQLite: a write is one transaction, so a
// tofu or sandbox killed mid-write leaves the previous state whole.

// maxStateBytes bounds one state upload (a manager of 10,000 environments
// writes a few tens of MB).
const maxStateBytes = 512 << 20

type lockInfo struct {
	ID string `json:"ID"`
}

func (e *Engine) stateHandler() http.Handler {
	mux := http.NewServeMux()
	auth := func(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			id := r.PathValue("stack")
			_, tok, ok := r.BasicAuth()
			stack, err := e.StackForToken(tok)
			if !ok || err != nil {
				http.Error(w, "state of "+id+": a run token is required", http.StatusUnauthorized)
				return
			}
			// External state access is off, as it is by default on
			// Spacelift: a run reads and writes its own stack's state only.
			if stack != id {
				http.Error(w, "state of "+id+": the token belongs to a run of "+stack, http.StatusForbidden)
				return
			}
			h(w, r, id)
		}
	}
	mux.HandleFunc("GET /state/{stack}", auth(func(w http.ResponseWriter, r *http.Request, id string) {
		b, err := e.st.readState(r.Context(), id)
		switch {
		case errors.Is(err, ErrNotFound):
			w.WriteHeader(http.StatusNoContent)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Write(b)
		}
	}))
	mux.HandleFunc("POST /state/{stack}", auth(func(w http.ResponseWriter, r *http.Request, id string) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxStateBytes))
		if err != nil {
			http.Error(w, "state of "+id+": "+err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		if !json.Valid(b) {
			http.Error(w, "state of "+id+": the body is not JSON", http.StatusBadRequest)
			return
		}
		err = e.st.writeState(r.Context(), id, r.URL.Query().Get("ID"), b)
		answer(w, err, http.StatusLocked)
	}))
	mux.HandleFunc("DELETE /state/{stack}", auth(func(w http.ResponseWriter, r *http.Request, id string) {
		if err := e.st.deleteState(r.Context(), id); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	mux.HandleFunc("LOCK /state/{stack}", auth(func(w http.ResponseWriter, r *http.Request, id string) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		var li lockInfo
		if err != nil || json.Unmarshal(b, &li) != nil || li.ID == "" {
			http.Error(w, "lock of "+id+": want tofu's lock info JSON with an ID", http.StatusBadRequest)
			return
		}
		err = e.st.lockState(r.Context(), id, b)
		answer(w, err, http.StatusLocked)
	}))
	mux.HandleFunc("UNLOCK /state/{stack}", auth(func(w http.ResponseWriter, r *http.Request, id string) {
		b, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		var li lockInfo
		_ = json.Unmarshal(b, &li)
		err := e.st.unlockState(r.Context(), id, li.ID)
		answer(w, err, http.StatusConflict)
	}))
	return mux
}

// answer writes a state call's outcome: nothing on success, the holder's
// lock info with locked (as the http backend expects) when another lock
// holds the state, 500 otherwise.
func answer(w http.ResponseWriter, err error, locked int) {
	var le *lockedError
	switch {
	case errors.As(err, &le):
		w.WriteHeader(locked)
		w.Write(le.info)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// lockedError is a state held by another lock; info is that lock's JSON.
type lockedError struct{ info []byte }

func (e *lockedError) Error() string { return "state is locked: " + string(e.info) }

func (s *store) readState(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT state FROM sl_tf_state WHERE stack_id = ? AND length(state) > 0`, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("state of %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read state of %s: %w", id, err)
	}
	return b, nil
}

func currentLock(ctx context.Context, tx *sql.Tx, id string) (string, error) {
	var lock string
	err := tx.QueryRowContext(ctx, `SELECT lock_info FROM sl_tf_state WHERE stack_id = ?`, id).Scan(&lock)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return lock, err
}

func lockID(info string) string {
	var li lockInfo
	_ = json.Unmarshal([]byte(info), &li)
	return li.ID
}

// writeState saves a state; while the state is locked only the holder of
// the lock (lockID, tofu's ?ID=) may write it.
func (s *store) writeState(ctx context.Context, id, lock string, b []byte) error {
	return s.tx(ctx, "save state of "+id, func(tx *sql.Tx) error {
		cur, err := currentLock(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur != "" && lockID(cur) != lock {
			return &lockedError{info: []byte(cur)}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sl_tf_state (stack_id, state, updated_at) VALUES (?,?,?)
			ON CONFLICT(stack_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`, id, b, ms(time.Now()))
		return err
	})
}

func (s *store) deleteState(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sl_tf_state SET state = x'' WHERE stack_id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete state of %s: %w", id, err)
	}
	return nil
}

func (s *store) lockState(ctx context.Context, id string, info []byte) error {
	return s.tx(ctx, "lock state of "+id, func(tx *sql.Tx) error {
		cur, err := currentLock(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur != "" {
			return &lockedError{info: []byte(cur)}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sl_tf_state (stack_id, state, lock_info, updated_at) VALUES (?, x'', ?, ?)
			ON CONFLICT(stack_id) DO UPDATE SET lock_info = excluded.lock_info`, id, string(info), ms(time.Now()))
		return err
	})
}

// unlockState releases the lock held under lock ID ("" forces it, as
// `tofu force-unlock` and the engine's stale-lock recovery do).
func (s *store) unlockState(ctx context.Context, id, lock string) error {
	return s.tx(ctx, "unlock state of "+id, func(tx *sql.Tx) error {
		cur, err := currentLock(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur != "" && lock != "" && lockID(cur) != lock {
			return &lockedError{info: []byte(cur)}
		}
		_, err = tx.ExecContext(ctx, `UPDATE sl_tf_state SET lock_info = '' WHERE stack_id = ?`, id)
		return err
	})
}

func (s *store) saveOutputs(ctx context.Context, id string, outs map[string]stateOutput) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sl_outputs (stack_id, outputs) VALUES (?,?)
		ON CONFLICT(stack_id) DO UPDATE SET outputs = excluded.outputs`, id, mustJSON(outs))
	if err != nil {
		return fmt.Errorf("save outputs of %s: %w", id, err)
	}
	return nil
}

// Outputs returns the outputs of a stack's last applied run.
func (e *Engine) Outputs(ctx context.Context, id string) (map[string]any, error) {
	var raw string
	err := e.st.db.QueryRowContext(ctx, `SELECT outputs FROM sl_outputs WHERE stack_id = ?`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read outputs of %s: %w", id, err)
	}
	var outs map[string]stateOutput
	if err := json.Unmarshal([]byte(raw), &outs); err != nil {
		return nil, fmt.Errorf("read outputs of %s: %w", id, err)
	}
	res := map[string]any{}
	for k, v := range outs {
		res[k] = v.Value
	}
	return res, nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Each stack's OpenTofu state, as Spacelift manages it: a write is one
// transaction, so a tofu or sandbox killed mid-write leaves the previous
// state whole. The lock is tofu's lock info JSON; while it is held only its
// holder may write.

// LockedError is a state held by another lock; Info is that lock's JSON.
type LockedError struct{ Info []byte }

func (e *LockedError) Error() string { return "state is locked: " + string(e.Info) }

// ReadState reads a stack's state, or an error wrapping ErrNotFound when it
// has none (or an empty one).
func (s *Store) ReadState(ctx context.Context, id string) ([]byte, error) {
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
	var li struct {
		ID string `json:"ID"`
	}
	_ = json.Unmarshal([]byte(info), &li)
	return li.ID
}

// WriteState saves a state; while the state is locked only the holder of
// the lock (lock, tofu's ?ID=) may write it, anyone else gets a
// *LockedError.
func (s *Store) WriteState(ctx context.Context, id, lock string, b []byte) error {
	return s.tx(ctx, "save state of "+id, func(tx *sql.Tx) error {
		cur, err := currentLock(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur != "" && lockID(cur) != lock {
			return &LockedError{Info: []byte(cur)}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sl_tf_state (stack_id, state, updated_at) VALUES (?,?,?)
			ON CONFLICT(stack_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`, id, b, ms(time.Now()))
		return err
	})
}

// DeleteState empties a stack's state (its lock stays).
func (s *Store) DeleteState(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sl_tf_state SET state = x'' WHERE stack_id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete state of %s: %w", id, err)
	}
	return nil
}

// LockState takes a stack's state lock with tofu's lock info; a lock held
// already is a *LockedError with the holder's info.
func (s *Store) LockState(ctx context.Context, id string, info []byte) error {
	return s.tx(ctx, "lock state of "+id, func(tx *sql.Tx) error {
		cur, err := currentLock(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur != "" {
			return &LockedError{Info: []byte(cur)}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sl_tf_state (stack_id, state, lock_info, updated_at) VALUES (?, x'', ?, ?)
			ON CONFLICT(stack_id) DO UPDATE SET lock_info = excluded.lock_info`, id, string(info), ms(time.Now()))
		return err
	})
}

// UnlockState releases the lock held under lock ID ("" forces it, as
// `tofu force-unlock` and the engine's stale-lock recovery do); another
// holder's lock is a *LockedError.
func (s *Store) UnlockState(ctx context.Context, id, lock string) error {
	return s.tx(ctx, "unlock state of "+id, func(tx *sql.Tx) error {
		cur, err := currentLock(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur != "" && lock != "" && lockID(cur) != lock {
			return &LockedError{Info: []byte(cur)}
		}
		_, err = tx.ExecContext(ctx, `UPDATE sl_tf_state SET lock_info = '' WHERE stack_id = ?`, id)
		return err
	})
}

// SaveOutputs replaces the outputs kept for a stack.
func (s *Store) SaveOutputs(ctx context.Context, id string, outs map[string]Output) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sl_outputs (stack_id, outputs) VALUES (?,?)
		ON CONFLICT(stack_id) DO UPDATE SET outputs = excluded.outputs`, id, mustJSON(outs))
	if err != nil {
		return fmt.Errorf("save outputs of %s: %w", id, err)
	}
	return nil
}

// Outputs returns the values of the outputs of a stack's last applied run
// (none for a stack that has not applied).
func (s *Store) Outputs(ctx context.Context, id string) (map[string]any, error) {
	var raw string
	err := s.db.QueryRowContext(ctx, `SELECT outputs FROM sl_outputs WHERE stack_id = ?`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read outputs of %s: %w", id, err)
	}
	var outs map[string]Output
	if err := json.Unmarshal([]byte(raw), &outs); err != nil {
		return nil, fmt.Errorf("read outputs of %s: %w", id, err)
	}
	res := map[string]any{}
	for k, v := range outs {
		res[k] = v.Value
	}
	return res, nil
}

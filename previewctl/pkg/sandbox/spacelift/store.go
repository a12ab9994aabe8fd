package spacelift

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"preview-environments/previewctl/pkg/sandbox/state"
)

// ErrNotFound is returned for a stack or run that does not exist.
var ErrNotFound = errors.New("not found")

// ErrDestroyPending refuses to remove a stack's variables, attachments or
// the stack itself while its destructor has not seen a finished destroy run:
// the destroy run needs them, so their removal is only possible after it.
var ErrDestroyPending = errors.New("the stack's destroy run has not finished")

// migrations are append-only (see state.Migrate).
var migrations = []string{
	`CREATE TABLE sl_stacks (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		description TEXT NOT NULL DEFAULT '',
		repository TEXT NOT NULL,
		branch TEXT NOT NULL,
		project_root TEXT NOT NULL DEFAULT '',
		globs TEXT NOT NULL DEFAULT '[]',
		labels TEXT NOT NULL DEFAULT '[]',
		autodeploy INTEGER NOT NULL DEFAULT 0,
		administrative INTEGER NOT NULL DEFAULT 0,
		managed_by TEXT NOT NULL DEFAULT '',
		environment_id TEXT NOT NULL DEFAULT '',
		service TEXT NOT NULL DEFAULT '',
		tracked_commit TEXT NOT NULL DEFAULT '',
		state TEXT NOT NULL DEFAULT 'NONE',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE TABLE sl_env_vars (
		stack_id TEXT NOT NULL REFERENCES sl_stacks(id),
		name TEXT NOT NULL,
		value TEXT NOT NULL,
		PRIMARY KEY (stack_id, name)
	);
	CREATE TABLE sl_policy_attachments (
		stack_id TEXT NOT NULL REFERENCES sl_stacks(id),
		policy TEXT NOT NULL,
		PRIMARY KEY (stack_id, policy)
	);
	CREATE TABLE sl_destructors (
		stack_id TEXT PRIMARY KEY REFERENCES sl_stacks(id),
		created_at INTEGER NOT NULL
	);
	CREATE TABLE sl_runs (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		id TEXT NOT NULL UNIQUE,
		stack_id TEXT NOT NULL,
		type TEXT NOT NULL,
		state TEXT NOT NULL,
		branch TEXT NOT NULL,
		commit_sha TEXT NOT NULL,
		triggered_by TEXT NOT NULL DEFAULT '',
		cause TEXT NOT NULL DEFAULT '',
		changes TEXT NOT NULL DEFAULT '[]',
		history TEXT NOT NULL DEFAULT '[]',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE INDEX sl_runs_stack ON sl_runs(stack_id, seq);
	CREATE INDEX sl_runs_state ON sl_runs(state, seq);
	CREATE TABLE sl_run_logs (
		run_id TEXT NOT NULL,
		seq INTEGER NOT NULL,
		at INTEGER NOT NULL,
		line TEXT NOT NULL,
		PRIMARY KEY (run_id, seq)
	);
	CREATE TABLE sl_policy_evals (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		at INTEGER NOT NULL,
		policy TEXT NOT NULL,
		stack_id TEXT NOT NULL,
		run_id TEXT NOT NULL DEFAULT '',
		summary TEXT NOT NULL,
		decision TEXT NOT NULL
	);`,
}

type store struct{ db *sql.DB }

func newStore(ctx context.Context, db *sql.DB) (*store, error) {
	if err := state.Migrate(ctx, db, "spacelift", append(slices.Clone(migrations), migrations2...)); err != nil {
		return nil, err
	}
	return &store{db: db}, nil
}

func ms(t time.Time) int64     { return t.UnixMilli() }
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
func mustJSON(v any) string    { b, _ := json.Marshal(v); return string(b) }
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// putStack creates or updates a stack's settings; its variables and
// attachments are written by their own calls, as the provider makes them.
func (s *store) putStack(ctx context.Context, st Stack) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save stack %s: %w", st.ID, err)
	}
	defer tx.Rollback()
	now := time.Now()
	if st.CreatedAt.IsZero() {
		st.CreatedAt = now
	}
	if st.State == "" {
		st.State = StackNone
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO sl_stacks
		(id, name, description, repository, branch, project_root, globs, labels, autodeploy, administrative,
		 managed_by, environment_id, service, tracked_commit, state, created_at, updated_at, spec)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET name=excluded.name, description=excluded.description,
		 repository=excluded.repository, branch=excluded.branch, project_root=excluded.project_root,
		 globs=excluded.globs, labels=excluded.labels, autodeploy=excluded.autodeploy,
		 administrative=excluded.administrative, managed_by=excluded.managed_by,
		 environment_id=excluded.environment_id, service=excluded.service, updated_at=excluded.updated_at,
		 spec=excluded.spec`,
		st.ID, st.Name, st.Description, st.Repository, st.Branch, st.ProjectRoot, mustJSON(nonNil(st.AdditionalGlobs)),
		mustJSON(nonNil(st.Labels)), b2i(st.Autodeploy), b2i(st.Administrative), st.ManagedBy, st.EnvironmentID,
		st.Service, st.TrackedCommit, st.State, ms(st.CreatedAt), ms(now), mustJSON(st.Spec))
	if err != nil {
		return fmt.Errorf("save stack %s: %w", st.ID, err)
	}
	return tx.Commit()
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func (s *store) setStackState(ctx context.Context, id, st string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sl_stacks SET state = ?, updated_at = ? WHERE id = ?`, st, ms(time.Now()), id)
	if err != nil {
		return fmt.Errorf("set state of stack %s: %w", id, err)
	}
	return nil
}

func (s *store) setTrackedCommit(ctx context.Context, id, commit string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sl_stacks SET tracked_commit = ?, updated_at = ? WHERE id = ?`, commit, ms(time.Now()), id)
	if err != nil {
		return fmt.Errorf("set tracked commit of stack %s: %w", id, err)
	}
	return nil
}

const stackCols = `id, name, description, repository, branch, project_root, globs, labels, autodeploy, administrative,
	managed_by, environment_id, service, tracked_commit, state, created_at, updated_at, spec`

func scanStack(sc interface{ Scan(...any) error }) (Stack, error) {
	var st Stack
	var globs, labels, spec string
	var auto, admin int
	var created, updated int64
	err := sc.Scan(&st.ID, &st.Name, &st.Description, &st.Repository, &st.Branch, &st.ProjectRoot, &globs, &labels,
		&auto, &admin, &st.ManagedBy, &st.EnvironmentID, &st.Service, &st.TrackedCommit, &st.State, &created, &updated, &spec)
	if err != nil {
		return st, err
	}
	_ = json.Unmarshal([]byte(spec), &st.Spec)
	_ = json.Unmarshal([]byte(globs), &st.AdditionalGlobs)
	_ = json.Unmarshal([]byte(labels), &st.Labels)
	st.Autodeploy, st.Administrative = auto == 1, admin == 1
	st.CreatedAt, st.UpdatedAt = fromMS(created), fromMS(updated)
	return st, nil
}

// stacks returns every stack with its variables and attachments, by ID.
func (s *store) stacks(ctx context.Context) ([]Stack, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+stackCols+` FROM sl_stacks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list stacks: %w", err)
	}
	var out []Stack
	idx := map[string]int{}
	for rows.Next() {
		st, err := scanStack(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list stacks: %w", err)
		}
		st.Env = map[string]string{}
		idx[st.ID] = len(out)
		out = append(out, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list stacks: %w", err)
	}
	vrows, err := s.db.QueryContext(ctx, `SELECT stack_id, name, value FROM sl_env_vars`)
	if err != nil {
		return nil, fmt.Errorf("list variables: %w", err)
	}
	for vrows.Next() {
		var id, name, value string
		if err := vrows.Scan(&id, &name, &value); err != nil {
			vrows.Close()
			return nil, fmt.Errorf("list variables: %w", err)
		}
		if i, ok := idx[id]; ok {
			out[i].Env[name] = value
		}
	}
	vrows.Close()
	prows, err := s.db.QueryContext(ctx, `SELECT a.stack_id, a.policy, COALESCE(p.type, '') FROM sl_policy_attachments a
		LEFT JOIN sl_policies p ON p.id = a.policy ORDER BY a.policy`)
	if err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	for prows.Next() {
		var id, p, typ string
		if err := prows.Scan(&id, &p, &typ); err != nil {
			prows.Close()
			return nil, fmt.Errorf("list attachments: %w", err)
		}
		if i, ok := idx[id]; ok {
			out[i].Policies = append(out[i].Policies, p)
			if out[i].PolicyTypes == nil {
				out[i].PolicyTypes = map[string]string{}
			}
			out[i].PolicyTypes[p] = typ
		}
	}
	prows.Close()
	return out, nil
}

// stack reads one stack with its variables and attachments. The provider
// reads stacks one at a time (a manager's refresh reads each of its
// environments' stacks): one stack's rows, not every stack's.
func (s *store) stack(ctx context.Context, id string) (Stack, error) {
	st, err := scanStack(s.db.QueryRowContext(ctx, `SELECT `+stackCols+` FROM sl_stacks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Stack{}, fmt.Errorf("stack %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Stack{}, fmt.Errorf("read stack %s: %w", id, err)
	}
	st.Env = map[string]string{}
	rows, err := s.db.QueryContext(ctx, `SELECT name, value FROM sl_env_vars WHERE stack_id = ?`, id)
	if err != nil {
		return Stack{}, fmt.Errorf("read variables of %s: %w", id, err)
	}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			rows.Close()
			return Stack{}, fmt.Errorf("read variables of %s: %w", id, err)
		}
		st.Env[name] = value
	}
	rows.Close()
	prows, err := s.db.QueryContext(ctx, `SELECT a.policy, COALESCE(p.type, '') FROM sl_policy_attachments a
		LEFT JOIN sl_policies p ON p.id = a.policy WHERE a.stack_id = ? ORDER BY a.policy`, id)
	if err != nil {
		return Stack{}, fmt.Errorf("read attachments of %s: %w", id, err)
	}
	for prows.Next() {
		var p, typ string
		if err := prows.Scan(&p, &typ); err != nil {
			prows.Close()
			return Stack{}, fmt.Errorf("read attachments of %s: %w", id, err)
		}
		st.Policies = append(st.Policies, p)
		if st.PolicyTypes == nil {
			st.PolicyTypes = map[string]string{}
		}
		st.PolicyTypes[p] = typ
	}
	prows.Close()
	return st, nil
}

// hasState reports whether the stack has Terraform state with resources
// in it (a deletion without destroy orphans them).
func (s *store) hasState(ctx context.Context, id string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sl_tf_state WHERE stack_id = ? AND length(state) > 0`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("read state of %s: %w", id, err)
	}
	return n > 0, nil
}

// deleteStack removes a stack with everything that belongs to it in one
// transaction, as Spacelift's stackDelete does: variables, attachments and
// the state it manages.
func (s *store) deleteStack(ctx context.Context, id string) error {
	return s.tx(ctx, "delete stack "+id, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM sl_env_vars WHERE stack_id = ?`,
			`DELETE FROM sl_policy_attachments WHERE stack_id = ?`,
			`DELETE FROM sl_destructors WHERE stack_id = ?`,
			`DELETE FROM sl_aws_attachments WHERE stack_id = ?`,
			`DELETE FROM sl_role_attachments WHERE stack_id = ?`,
			`DELETE FROM sl_tf_state WHERE stack_id = ?`,
			`DELETE FROM sl_outputs WHERE stack_id = ?`,
			`DELETE FROM sl_stacks WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// tx runs fn in one transaction; what names the operation in errors.
func (s *store) tx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// deleteEnvVar removes one variable; refused while a destroy is pending for
// the stack (the destroy run reads it).
func (s *store) deleteEnvVar(ctx context.Context, stackID, name string) error {
	st, err := s.stack(ctx, stackID)
	if err != nil {
		return err
	}
	if st.State == StackDeleting {
		return fmt.Errorf("delete variable %s of %s: %w", name, stackID, ErrDestroyPending)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sl_env_vars WHERE stack_id = ? AND name = ?`, stackID, name); err != nil {
		return fmt.Errorf("delete variable %s of %s: %w", name, stackID, err)
	}
	return nil
}

// insertRun queues a run and returns it with its ID.
func (s *store) insertRun(ctx context.Context, r Run) (Run, error) {
	now := time.Now().UTC()
	r.State = StateQueued
	r.CreatedAt, r.UpdatedAt = now, now
	r.History = []StateChange{{State: StateQueued, At: now}}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return r, fmt.Errorf("queue run on %s: %w", r.StackID, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO sl_runs (id, stack_id, type, state, branch, commit_sha, triggered_by, cause, changes, history, created_at, updated_at)
		VALUES ('', ?,?,?,?,?,?,?,?,?,?,?)`, r.StackID, r.Type, r.State, r.Branch, r.Commit, r.TriggeredBy, r.Cause,
		mustJSON(nonNilChanges(r.Changes)), mustJSON(r.History), ms(now), ms(now))
	if err != nil {
		return r, fmt.Errorf("queue run on %s: %w", r.StackID, err)
	}
	seq, _ := res.LastInsertId()
	r.ID = fmt.Sprintf("run-%06d", seq)
	if _, err := tx.ExecContext(ctx, `UPDATE sl_runs SET id = ? WHERE seq = ?`, r.ID, seq); err != nil {
		return r, fmt.Errorf("queue run on %s: %w", r.StackID, err)
	}
	return r, tx.Commit()
}

func nonNilChanges(c []Change) []Change {
	if c == nil {
		return []Change{}
	}
	return c
}

func (s *store) setRunState(ctx context.Context, id, st string) (Run, error) {
	r, err := s.run(ctx, id)
	if err != nil {
		return r, err
	}
	now := time.Now().UTC()
	r.State, r.UpdatedAt = st, now
	r.History = append(r.History, StateChange{State: st, At: now})
	if _, err := s.db.ExecContext(ctx, `UPDATE sl_runs SET state = ?, history = ?, updated_at = ? WHERE id = ?`,
		st, mustJSON(r.History), ms(now), id); err != nil {
		return r, fmt.Errorf("set state of run %s: %w", id, err)
	}
	return r, nil
}

func (s *store) setRunChanges(ctx context.Context, id string, changes []Change) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE sl_runs SET changes = ? WHERE id = ?`, mustJSON(nonNilChanges(changes)), id); err != nil {
		return fmt.Errorf("save changes of run %s: %w", id, err)
	}
	return nil
}

const runCols = `id, stack_id, type, state, branch, commit_sha, triggered_by, cause, changes, history, created_at, updated_at`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var changes, history string
	var created, updated int64
	if err := sc.Scan(&r.ID, &r.StackID, &r.Type, &r.State, &r.Branch, &r.Commit, &r.TriggeredBy, &r.Cause,
		&changes, &history, &created, &updated); err != nil {
		return r, err
	}
	_ = json.Unmarshal([]byte(changes), &r.Changes)
	_ = json.Unmarshal([]byte(history), &r.History)
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return r, nil
}

func (s *store) run(ctx context.Context, id string) (Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM sl_runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("read run %s: %w", id, err)
	}
	return r, nil
}

// runs lists runs, newest first; stackID "" means every stack.
func (s *store) runs(ctx context.Context, stackID string, limit int) ([]Run, error) {
	q := `SELECT ` + runCols + ` FROM sl_runs`
	args := []any{}
	if stackID != "" {
		q += ` WHERE stack_id = ?`
		args = append(args, stackID)
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, limit)
	return s.queryRuns(ctx, q, args...)
}

func (s *store) queryRuns(ctx context.Context, q string, args ...any) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// activeRuns are runs that have started but not reached a terminal state.
func (s *store) activeRuns(ctx context.Context) ([]Run, error) {
	return s.queryRuns(ctx, `SELECT `+runCols+` FROM sl_runs WHERE state NOT IN (?,?,?,?,?,?,?) ORDER BY seq`,
		StateQueued, StateFinished, StateFailed, StateCanceled, StateDiscarded, StateStopped, StateSkipped)
}

func (s *store) queuedRuns(ctx context.Context) ([]Run, error) {
	return s.queryRuns(ctx, `SELECT `+runCols+` FROM sl_runs WHERE state = ? ORDER BY seq`, StateQueued)
}

func (s *store) appendLog(ctx context.Context, runID, line string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sl_run_logs (run_id, seq, at, line)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM sl_run_logs WHERE run_id = ?), ?, ?)`,
		runID, runID, ms(time.Now()), line)
	if err != nil {
		return fmt.Errorf("append to log of run %s: %w", runID, err)
	}
	return nil
}

// appendLogs appends lines to a run's log in one transaction.
func (s *store) appendLogs(ctx context.Context, runID string, lines []string) error {
	return s.tx(ctx, "append to log of run "+runID, func(tx *sql.Tx) error {
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM sl_run_logs WHERE run_id = ?`, runID).Scan(&seq); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO sl_run_logs (run_id, seq, at, line) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		at := ms(time.Now())
		for _, l := range lines {
			seq++
			if _, err := st.ExecContext(ctx, runID, seq, at, l); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *store) logs(ctx context.Context, runID string) ([]LogLine, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, line FROM sl_run_logs WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		return nil, fmt.Errorf("read log of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []LogLine
	for rows.Next() {
		var at int64
		var l LogLine
		if err := rows.Scan(&at, &l.Line); err != nil {
			return nil, fmt.Errorf("read log of run %s: %w", runID, err)
		}
		l.At = fromMS(at)
		out = append(out, l)
	}
	return out, rows.Err()
}

func (s *store) addEvaluation(ctx context.Context, e PolicyEvaluation) (PolicyEvaluation, error) {
	e.At = time.Now().UTC()
	res, err := s.db.ExecContext(ctx, `INSERT INTO sl_policy_evals (at, policy, stack_id, run_id, summary, decision) VALUES (?,?,?,?,?,?)`,
		ms(e.At), e.Policy, e.StackID, e.RunID, e.Summary, e.Decision)
	if err != nil {
		return e, fmt.Errorf("record %s policy evaluation: %w", e.Policy, err)
	}
	e.ID, _ = res.LastInsertId()
	return e, nil
}

func (s *store) evaluations(ctx context.Context, limit int) ([]PolicyEvaluation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, policy, stack_id, run_id, summary, decision FROM sl_policy_evals ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list policy evaluations: %w", err)
	}
	defer rows.Close()
	var out []PolicyEvaluation
	for rows.Next() {
		var e PolicyEvaluation
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Policy, &e.StackID, &e.RunID, &e.Summary, &e.Decision); err != nil {
			return nil, fmt.Errorf("list policy evaluations: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

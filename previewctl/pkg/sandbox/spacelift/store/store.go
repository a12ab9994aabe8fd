package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned for a stack or run that does not exist.
var ErrNotFound = errors.New("not found")

// ErrDestroyPending refuses to remove a stack's variables, attachments or
// the stack itself while its destructor has not seen a finished destroy run:
// the destroy run needs them, so their removal is only possible after it.
var ErrDestroyPending = errors.New("the stack's destroy run has not finished")

// ErrExists is a record that would duplicate one the store holds (a
// dependency between the same stacks, a reference setting the same input).
var ErrExists = errors.New("exists already")

func ms(t time.Time) int64     { return t.UnixMilli() }
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
func mustJSON(v any) string    { b, _ := json.Marshal(v); return string(b) }
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// PutStack creates or updates a stack's settings; its variables and
// attachments are written by their own calls, as the provider makes them.
func (s *Store) PutStack(ctx context.Context, st Stack) error {
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

// SetStackState sets a stack's lifecycle state (StackNone, StackActive,
// StackDeleting, or the FAILED of its last run).
func (s *Store) SetStackState(ctx context.Context, id, st string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sl_stacks SET state = ?, updated_at = ? WHERE id = ?`, st, ms(time.Now()), id)
	if err != nil {
		return fmt.Errorf("set state of stack %s: %w", id, err)
	}
	return nil
}

// SetTrackedCommit records the commit a stack's last finished tracked run
// applied.
func (s *Store) SetTrackedCommit(ctx context.Context, id, commit string) error {
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
	st.Role = StackRole(st.Labels, st.EnvironmentID)
	return st, nil
}

// Stacks returns every stack with its variables and attachments, by ID.
func (s *Store) Stacks(ctx context.Context) ([]Stack, error) {
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
	deps, err := s.Dependencies(ctx, "", "")
	if err != nil {
		return nil, err
	}
	for _, d := range deps {
		if i, ok := idx[d.StackID]; ok {
			out[i].DependsOn = append(out[i].DependsOn, d.DependsOn)
		}
	}
	return out, nil
}

// Stack reads one stack with its variables and attachments. The provider
// reads stacks one at a time (a manager's refresh reads each of its
// environments' stacks): one stack's rows, not every stack's.
func (s *Store) Stack(ctx context.Context, id string) (Stack, error) {
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
	deps, err := s.Dependencies(ctx, id, "")
	if err != nil {
		return Stack{}, err
	}
	st.DependsOn = upstreamIDs(deps, id)
	return st, nil
}

// HasState reports whether the stack has Terraform state with resources
// in it (a deletion without destroy orphans them).
func (s *Store) HasState(ctx context.Context, id string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sl_tf_state WHERE stack_id = ? AND length(state) > 0`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("read state of %s: %w", id, err)
	}
	return n > 0, nil
}

// DeleteStack removes a stack with everything that belongs to it in one
// transaction, as Spacelift's stackDelete does: variables, attachments and
// the state it manages.
func (s *Store) DeleteStack(ctx context.Context, id string) error {
	return s.tx(ctx, "delete stack "+id, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM sl_references WHERE dependency_id IN (SELECT id FROM sl_dependencies WHERE stack_id = ?1 OR depends_on = ?1)`,
			`DELETE FROM sl_dependencies WHERE stack_id = ?1 OR depends_on = ?1`,
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
func (s *Store) tx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
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

// DeleteEnvVar removes one variable; refused while a destroy is pending for
// the stack (the destroy run reads it).
func (s *Store) DeleteEnvVar(ctx context.Context, stackID, name string) error {
	st, err := s.Stack(ctx, stackID)
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

// InsertRun queues a run and returns it with its ID.
func (s *Store) InsertRun(ctx context.Context, r Run) (Run, error) {
	rs, err := s.InsertRuns(ctx, []Run{r})
	if err != nil {
		return r, err
	}
	return rs[0], nil
}

// InsertRuns queues runs in one transaction: the scheduler sees all of
// them or none, so runs queued together (one push, one trigger-policy
// decision) are ordered by their dependencies, not by which one the
// scheduler happened to see first.
func (s *Store) InsertRuns(ctx context.Context, runs []Run) ([]Run, error) {
	now := time.Now().UTC()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("queue runs: %w", err)
	}
	defer tx.Rollback()
	out := make([]Run, 0, len(runs))
	for _, r := range runs {
		r.State = StateQueued
		r.CreatedAt, r.UpdatedAt = now, now
		r.History = []StateChange{{State: StateQueued, At: now}}
		res, err := tx.ExecContext(ctx, `INSERT INTO sl_runs (id, stack_id, type, state, branch, commit_sha, triggered_by, cause, changes, history, created_at, updated_at)
		VALUES ('', ?,?,?,?,?,?,?,?,?,?,?)`, r.StackID, r.Type, r.State, r.Branch, r.Commit, r.TriggeredBy, r.Cause,
			mustJSON(nonNilChanges(r.Changes)), mustJSON(r.History), ms(now), ms(now))
		if err != nil {
			return nil, fmt.Errorf("queue run on %s: %w", r.StackID, err)
		}
		seq, _ := res.LastInsertId()
		r.ID = fmt.Sprintf("run-%06d", seq)
		if _, err := tx.ExecContext(ctx, `UPDATE sl_runs SET id = ? WHERE seq = ?`, r.ID, seq); err != nil {
			return nil, fmt.Errorf("queue run on %s: %w", r.StackID, err)
		}
		out = append(out, r)
	}
	return out, tx.Commit()
}

func nonNilChanges(c []Change) []Change {
	if c == nil {
		return []Change{}
	}
	return c
}

// SetRunState moves a run to state st and appends it to the run's history.
func (s *Store) SetRunState(ctx context.Context, id, st string) (Run, error) {
	r, err := s.Run(ctx, id)
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

// SetRunChanges saves a run's resource changes.
func (s *Store) SetRunChanges(ctx context.Context, id string, changes []Change) error {
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

// Run reads one run, or an error wrapping ErrNotFound.
func (s *Store) Run(ctx context.Context, id string) (Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM sl_runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("read run %s: %w", id, err)
	}
	return r, nil
}

// Runs lists runs, newest first; stackID "" means every stack.
func (s *Store) Runs(ctx context.Context, stackID string, limit int) ([]Run, error) {
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

func (s *Store) queryRuns(ctx context.Context, q string, args ...any) ([]Run, error) {
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

// ActiveRuns are runs that have started but not reached a terminal state.
func (s *Store) ActiveRuns(ctx context.Context) ([]Run, error) {
	return s.queryRuns(ctx, `SELECT `+runCols+` FROM sl_runs WHERE state NOT IN (?,?,?,?,?,?,?) ORDER BY seq`,
		StateQueued, StateFinished, StateFailed, StateCanceled, StateDiscarded, StateStopped, StateSkipped)
}

// QueuedRuns are the runs waiting to start, oldest first.
func (s *Store) QueuedRuns(ctx context.Context) ([]Run, error) {
	return s.queryRuns(ctx, `SELECT `+runCols+` FROM sl_runs WHERE state = ? ORDER BY seq`, StateQueued)
}

// AppendLog appends one line to a run's log.
func (s *Store) AppendLog(ctx context.Context, runID, line string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sl_run_logs (run_id, seq, at, line)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM sl_run_logs WHERE run_id = ?), ?, ?)`,
		runID, runID, ms(time.Now()), line)
	if err != nil {
		return fmt.Errorf("append to log of run %s: %w", runID, err)
	}
	return nil
}

// AppendLogs appends lines to a run's log in one transaction.
func (s *Store) AppendLogs(ctx context.Context, runID string, lines []string) error {
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

// Logs reads a run's log.
func (s *Store) Logs(ctx context.Context, runID string) ([]LogLine, error) {
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

// LogLineCount counts a run's log lines without reading them.
func (s *Store) LogLineCount(ctx context.Context, runID string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sl_run_logs WHERE run_id = ?`, runID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count log lines of run %s: %w", runID, err)
	}
	return n, nil
}

// AddEvaluation records a policy decision and returns it with its ID and time.
func (s *Store) AddEvaluation(ctx context.Context, e PolicyEvaluation) (PolicyEvaluation, error) {
	e.At = time.Now().UTC()
	res, err := s.db.ExecContext(ctx, `INSERT INTO sl_policy_evals (at, policy, stack_id, run_id, summary, decision) VALUES (?,?,?,?,?,?)`,
		ms(e.At), e.Policy, e.StackID, e.RunID, e.Summary, e.Decision)
	if err != nil {
		return e, fmt.Errorf("record %s policy evaluation: %w", e.Policy, err)
	}
	e.ID, _ = res.LastInsertId()
	return e, nil
}

// Evaluations lists the latest policy decisions, newest first.
func (s *Store) Evaluations(ctx context.Context, limit int) ([]PolicyEvaluation, error) {
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

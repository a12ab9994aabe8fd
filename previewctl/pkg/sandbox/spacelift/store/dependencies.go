package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

// Dependencies lists dependencies with their references, all of them or
// those of one dependent (stackID) or of one upstream (upstream).
func (s *Store) Dependencies(ctx context.Context, stackID, upstream string) ([]Dependency, error) {
	where := ""
	var args []any
	switch {
	case stackID != "":
		where, args = ` WHERE stack_id = ?`, []any{stackID}
	case upstream != "":
		where, args = ` WHERE depends_on = ?`, []any{upstream}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, stack_id, depends_on FROM sl_dependencies`+where+` ORDER BY stack_id, depends_on`, args...)
	if err != nil {
		return nil, fmt.Errorf("list dependencies: %w", err)
	}
	var out []Dependency
	idx := map[string]int{}
	for rows.Next() {
		var d Dependency
		if err := rows.Scan(&d.ID, &d.StackID, &d.DependsOn); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list dependencies: %w", err)
		}
		d.References = []slapi.Reference{}
		idx[d.ID] = len(out)
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list dependencies: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	// Only the selected dependencies' references: a stack read must not
	// read every reference there is.
	rrows, err := s.db.QueryContext(ctx, `SELECT id, dependency_id, stack_id, output_name, input_name, trigger_always
		FROM sl_references WHERE dependency_id IN (SELECT id FROM sl_dependencies`+where+`) ORDER BY input_name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list references: %w", err)
	}
	defer rrows.Close()
	for rrows.Next() {
		var r slapi.Reference
		var always int
		if err := rrows.Scan(&r.ID, &r.DependencyID, &r.StackID, &r.OutputName, &r.InputName, &always); err != nil {
			return nil, fmt.Errorf("list references: %w", err)
		}
		r.TriggerAlways = always != 0
		if i, ok := idx[r.DependencyID]; ok {
			out[i].References = append(out[i].References, r)
		}
	}
	return out, rrows.Err()
}

// upstreamIDs lists the stacks a stack depends on, for views.
func upstreamIDs(deps []Dependency, stackID string) []string {
	var out []string
	for _, d := range deps {
		if d.StackID == stackID {
			out = append(out, d.DependsOn)
		}
	}
	slices.Sort(out)
	return out
}

// Dependency reads one dependency of stackID, or an error wrapping
// ErrNotFound.
func (s *Store) Dependency(ctx context.Context, stackID, id string) (slapi.StackDependency, error) {
	var d slapi.StackDependency
	err := s.db.QueryRowContext(ctx, `SELECT id, stack_id, depends_on FROM sl_dependencies WHERE id = ? AND stack_id = ?`,
		id, stackID).Scan(&d.ID, &d.StackID, &d.DependsOnStackID)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("dependency %s of %s: %w", id, stackID, ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("read dependency %s: %w", id, err)
	}
	return d, nil
}

// unique reports whether err is a UNIQUE constraint's.
func unique(err error) bool { return err != nil && strings.Contains(err.Error(), "UNIQUE") }

// InsertDependency stores a dependency; one between the same two stacks is
// an error wrapping ErrExists.
func (s *Store) InsertDependency(ctx context.Context, d slapi.StackDependency) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sl_dependencies (id, stack_id, depends_on) VALUES (?,?,?)`, d.ID, d.StackID, d.DependsOnStackID)
	if unique(err) {
		return fmt.Errorf("dependency of %s on %s: %w", d.StackID, d.DependsOnStackID, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("save dependency of %s on %s: %w", d.StackID, d.DependsOnStackID, err)
	}
	return nil
}

// DeleteDependency removes a dependency and its references in one
// transaction.
func (s *Store) DeleteDependency(ctx context.Context, id string) error {
	return s.tx(ctx, "delete dependency "+id, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sl_references WHERE dependency_id = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sl_dependencies WHERE id = ?`, id)
		return err
	})
}

// Reference reads one reference of a dependency of stackID, or an error
// wrapping ErrNotFound.
func (s *Store) Reference(ctx context.Context, stackID, depID, id string) (slapi.Reference, error) {
	var r slapi.Reference
	var always int
	err := s.db.QueryRowContext(ctx, `SELECT id, dependency_id, stack_id, output_name, input_name, trigger_always
		FROM sl_references WHERE id = ? AND dependency_id = ? AND stack_id = ?`, id, depID, stackID).
		Scan(&r.ID, &r.DependencyID, &r.StackID, &r.OutputName, &r.InputName, &always)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("reference %s of dependency %s: %w", id, depID, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("read reference %s: %w", id, err)
	}
	r.TriggerAlways = always != 0
	return r, nil
}

// InsertReference stores a reference; another one setting the same input
// on the stack is an error wrapping ErrExists.
func (s *Store) InsertReference(ctx context.Context, r slapi.Reference) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sl_references (id, dependency_id, stack_id, output_name, input_name, trigger_always)
		VALUES (?,?,?,?,?,?)`, r.ID, r.DependencyID, r.StackID, r.OutputName, r.InputName, b2i(r.TriggerAlways))
	if unique(err) {
		return fmt.Errorf("reference setting %s on %s: %w", r.InputName, r.StackID, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("save reference %s of %s: %w", r.InputName, r.StackID, err)
	}
	return nil
}

// UpdateReference changes a reference; one whose new input another
// reference of the stack sets already is an error wrapping ErrExists.
func (s *Store) UpdateReference(ctx context.Context, id string, spec slapi.ReferenceSpec) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sl_references SET output_name = ?, input_name = ?, trigger_always = ? WHERE id = ?`,
		spec.OutputName, spec.InputName, b2i(spec.TriggerAlways), id)
	if unique(err) {
		return fmt.Errorf("reference setting %s: %w", spec.InputName, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("update reference %s: %w", id, err)
	}
	return nil
}

// DeleteReference removes a reference.
func (s *Store) DeleteReference(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sl_references WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete reference %s: %w", id, err)
	}
	return nil
}

// Upstreams maps every stack that depends on others to the stacks it
// depends on: the scheduler's one read per pass, without references.
func (s *Store) Upstreams(ctx context.Context) (map[string][]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT stack_id, depends_on FROM sl_dependencies`)
	if err != nil {
		return nil, fmt.Errorf("list dependencies: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var stack, up string
		if err := rows.Scan(&stack, &up); err != nil {
			return nil, fmt.Errorf("list dependencies: %w", err)
		}
		out[stack] = append(out[stack], up)
	}
	return out, rows.Err()
}

// HasQueuedTrackedRun reports whether a stack has a tracked run queued.
func (s *Store) HasQueuedTrackedRun(ctx context.Context, stackID string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sl_runs WHERE stack_id = ? AND type = ? AND state = ?`,
		stackID, RunTracked, StateQueued).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("runs of %s: %w", stackID, err)
	}
	return n > 0, nil
}

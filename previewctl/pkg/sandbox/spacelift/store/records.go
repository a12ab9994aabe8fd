package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

// The records the provider API creates besides stacks: environment
// variables, policies and their attachments, AWS integrations and their
// attachments, role attachments. Each call is one statement (or one
// transaction); the checks the API makes before it are package
// providerapi's.

// PutEnvVar creates or replaces a stack's environment variable.
func (s *Store) PutEnvVar(ctx context.Context, stackID, name string, spec slapi.EnvVarSpec) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sl_env_vars (stack_id, name, value, write_only, description) VALUES (?,?,?,?,?)
		ON CONFLICT(stack_id, name) DO UPDATE SET value=excluded.value, write_only=excluded.write_only, description=excluded.description`,
		stackID, name, spec.Value, b2i(spec.WriteOnly), spec.Description); err != nil {
		return fmt.Errorf("save variable %s of %s: %w", name, stackID, err)
	}
	return nil
}

// EnvVar reads a stack's environment variable, write-only ones with their
// value, or an error wrapping ErrNotFound.
func (s *Store) EnvVar(ctx context.Context, stackID, name string) (slapi.EnvVarSpec, error) {
	var v slapi.EnvVarSpec
	var wo int
	err := s.db.QueryRowContext(ctx, `SELECT value, write_only, description FROM sl_env_vars WHERE stack_id = ? AND name = ?`,
		stackID, name).Scan(&v.Value, &wo, &v.Description)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("variable %s of %s: %w", name, stackID, ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("read variable %s of %s: %w", name, stackID, err)
	}
	v.WriteOnly = wo == 1
	return v, nil
}

// InsertPolicy stores a new policy under id.
func (s *Store) InsertPolicy(ctx context.Context, id string, spec slapi.PolicySpec) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sl_policies (id, type, spec) VALUES (?,?,?)`, id, spec.Type, mustJSON(spec)); err != nil {
		return fmt.Errorf("save policy %s: %w", id, err)
	}
	return nil
}

// Policy reads a policy, or an error wrapping ErrNotFound.
func (s *Store) Policy(ctx context.Context, id string) (slapi.PolicySpec, error) {
	var raw string
	var spec slapi.PolicySpec
	err := s.db.QueryRowContext(ctx, `SELECT spec FROM sl_policies WHERE id = ?`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return spec, fmt.Errorf("policy %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return spec, fmt.Errorf("read policy %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return spec, fmt.Errorf("read policy %s: %w", id, err)
	}
	return spec, nil
}

// UpdatePolicy replaces a policy's spec (its type column stays).
func (s *Store) UpdatePolicy(ctx context.Context, id string, spec slapi.PolicySpec) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE sl_policies SET spec = ? WHERE id = ?`, mustJSON(spec), id); err != nil {
		return fmt.Errorf("save policy %s: %w", id, err)
	}
	return nil
}

// DeletePolicy removes a policy and its attachments in one transaction.
func (s *Store) DeletePolicy(ctx context.Context, id string) error {
	return s.tx(ctx, "delete policy "+id, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sl_policy_attachments WHERE policy = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sl_policies WHERE id = ?`, id)
		return err
	})
}

// AttachPolicy attaches a policy to a stack.
func (s *Store) AttachPolicy(ctx context.Context, policyID, stackID string) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sl_policy_attachments (stack_id, policy) VALUES (?,?)`, stackID, policyID); err != nil {
		return fmt.Errorf("attach %s to %s: %w", policyID, stackID, err)
	}
	return nil
}

// PolicyAttached reports whether a policy is attached to a stack.
func (s *Store) PolicyAttached(ctx context.Context, policyID, stackID string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sl_policy_attachments WHERE stack_id = ? AND policy = ?`,
		stackID, policyID).Scan(&n); err != nil {
		return false, fmt.Errorf("read attachment of %s to %s: %w", policyID, stackID, err)
	}
	return n > 0, nil
}

// DetachPolicy removes a policy's attachment to a stack.
func (s *Store) DetachPolicy(ctx context.Context, policyID, stackID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sl_policy_attachments WHERE stack_id = ? AND policy = ?`, stackID, policyID); err != nil {
		return fmt.Errorf("detach %s from %s: %w", policyID, stackID, err)
	}
	return nil
}

// PutAWSIntegration creates or replaces an AWS integration.
func (s *Store) PutAWSIntegration(ctx context.Context, id string, spec slapi.AWSIntegrationSpec) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sl_aws_integrations (id, spec) VALUES (?,?)
		ON CONFLICT(id) DO UPDATE SET spec=excluded.spec`, id, mustJSON(spec)); err != nil {
		return fmt.Errorf("save AWS integration %s: %w", id, err)
	}
	return nil
}

// AWSIntegration reads an AWS integration, or an error wrapping ErrNotFound.
func (s *Store) AWSIntegration(ctx context.Context, id string) (slapi.AWSIntegrationSpec, error) {
	var raw string
	var spec slapi.AWSIntegrationSpec
	err := s.db.QueryRowContext(ctx, `SELECT spec FROM sl_aws_integrations WHERE id = ?`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return spec, fmt.Errorf("AWS integration %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return spec, fmt.Errorf("read AWS integration %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return spec, fmt.Errorf("read AWS integration %s: %w", id, err)
	}
	return spec, nil
}

// AWSIntegrationByName finds an AWS integration's ID by its name, or an
// error wrapping ErrNotFound.
func (s *Store) AWSIntegrationByName(ctx context.Context, name string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM sl_aws_integrations WHERE json_extract(spec, '$.name') = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("AWS integration named %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read AWS integrations: %w", err)
	}
	return id, nil
}

// DeleteAWSIntegration removes an AWS integration and its attachments in
// one transaction.
func (s *Store) DeleteAWSIntegration(ctx context.Context, id string) error {
	return s.tx(ctx, "delete AWS integration "+id, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sl_aws_attachments WHERE integration_id = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sl_aws_integrations WHERE id = ?`, id)
		return err
	})
}

// InsertAWSAttachment attaches an AWS integration to a stack under the
// attachment's own ID.
func (s *Store) InsertAWSAttachment(ctx context.Context, a slapi.AWSAttachment) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sl_aws_attachments (integration_id, stack_id, attachment_id, read, write) VALUES (?,?,?,?,?)`,
		a.IntegrationID, a.StackID, a.AttachmentID, b2i(a.Read), b2i(a.Write)); err != nil {
		return fmt.Errorf("attach AWS integration %s to %s: %w", a.IntegrationID, a.StackID, err)
	}
	return nil
}

// AWSAttachment reads an integration's attachment to a stack (all but the
// API's ID), or an error wrapping ErrNotFound.
func (s *Store) AWSAttachment(ctx context.Context, integrationID, stackID string) (slapi.AWSAttachment, error) {
	a := slapi.AWSAttachment{IntegrationID: integrationID, StackID: stackID}
	var r, w int
	err := s.db.QueryRowContext(ctx, `SELECT attachment_id, read, write FROM sl_aws_attachments WHERE integration_id = ? AND stack_id = ?`,
		integrationID, stackID).Scan(&a.AttachmentID, &r, &w)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("attachment of %s to %s: %w", integrationID, stackID, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("read attachment of %s to %s: %w", integrationID, stackID, err)
	}
	a.Read, a.Write = r == 1, w == 1
	return a, nil
}

// UpdateAWSAttachment changes an attachment's read and write.
func (s *Store) UpdateAWSAttachment(ctx context.Context, integrationID, stackID string, read, write bool) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE sl_aws_attachments SET read = ?, write = ? WHERE integration_id = ? AND stack_id = ?`,
		b2i(read), b2i(write), integrationID, stackID); err != nil {
		return fmt.Errorf("update attachment of %s to %s: %w", integrationID, stackID, err)
	}
	return nil
}

// DeleteAWSAttachment removes an integration's attachment to a stack.
func (s *Store) DeleteAWSAttachment(ctx context.Context, integrationID, stackID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sl_aws_attachments WHERE integration_id = ? AND stack_id = ?`, integrationID, stackID); err != nil {
		return fmt.Errorf("detach AWS integration %s from %s: %w", integrationID, stackID, err)
	}
	return nil
}

// RoleAttached reports whether a role is attached to a stack in a space.
func (s *Store) RoleAttached(ctx context.Context, spec slapi.RoleAttachmentSpec) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sl_role_attachments WHERE role_id = ? AND space_id = ? AND stack_id = ?`,
		spec.RoleID, spec.SpaceID, spec.StackID).Scan(&n); err != nil {
		return false, fmt.Errorf("read role attachments: %w", err)
	}
	return n > 0, nil
}

// InsertRoleAttachment stores a role attachment.
func (s *Store) InsertRoleAttachment(ctx context.Context, a slapi.RoleAttachment) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sl_role_attachments (id, role_id, space_id, stack_id) VALUES (?,?,?,?)`,
		a.ID, a.RoleID, a.SpaceID, a.StackID); err != nil {
		return fmt.Errorf("save role attachment: %w", err)
	}
	return nil
}

// RoleAttachment reads a role attachment, or an error wrapping ErrNotFound.
func (s *Store) RoleAttachment(ctx context.Context, id string) (slapi.RoleAttachment, error) {
	out := slapi.RoleAttachment{ID: id}
	err := s.db.QueryRowContext(ctx, `SELECT role_id, space_id, stack_id FROM sl_role_attachments WHERE id = ?`, id).
		Scan(&out.RoleID, &out.SpaceID, &out.StackID)
	if errors.Is(err, sql.ErrNoRows) {
		return out, fmt.Errorf("role attachment %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return out, fmt.Errorf("read role attachment %s: %w", id, err)
	}
	return out, nil
}

// DeleteRoleAttachment removes a role attachment.
func (s *Store) DeleteRoleAttachment(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sl_role_attachments WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete role attachment %s: %w", id, err)
	}
	return nil
}

package spacelift

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

// This file is the stand-in's side of the API that the sandbox's
// terraform-provider-spacelift calls (slapi.Backend): what the real
// provider's GraphQL mutations do to Spacelift's records, done to the
// SQLite store. The stacks, variables and attachments the engine knows are
// exactly those these calls created.

var _ slapi.Backend = (*Engine)(nil)

// Labels with which the template marks a stack as a preview environment;
// the dashboard and policies read them.
const (
	labelManagedBy     = "preview-environment-managed-by:"
	labelEnvironmentID = "preview_environment_id:"
)

// migrations2 extend the first schema for the provider API (append-only).
var migrations2 = []string{
	`ALTER TABLE sl_stacks ADD COLUMN spec TEXT NOT NULL DEFAULT '{}';
	ALTER TABLE sl_env_vars ADD COLUMN write_only INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE sl_env_vars ADD COLUMN description TEXT NOT NULL DEFAULT '';
	CREATE TABLE sl_policies (
		id TEXT PRIMARY KEY,
		type TEXT NOT NULL,
		spec TEXT NOT NULL
	);
	CREATE TABLE sl_aws_integrations (
		id TEXT PRIMARY KEY,
		spec TEXT NOT NULL
	);
	CREATE TABLE sl_aws_attachments (
		integration_id TEXT NOT NULL REFERENCES sl_aws_integrations(id),
		stack_id TEXT NOT NULL REFERENCES sl_stacks(id),
		attachment_id TEXT NOT NULL,
		read INTEGER NOT NULL,
		write INTEGER NOT NULL,
		PRIMARY KEY (integration_id, stack_id)
	);
	CREATE TABLE sl_role_attachments (
		id TEXT PRIMARY KEY,
		role_id TEXT NOT NULL,
		space_id TEXT NOT NULL,
		stack_id TEXT NOT NULL REFERENCES sl_stacks(id)
	);
	CREATE TABLE sl_tf_state (
		stack_id TEXT PRIMARY KEY,
		state BLOB NOT NULL,
		lock_info TEXT NOT NULL DEFAULT '',
		updated_at INTEGER NOT NULL
	);
	CREATE TABLE sl_outputs (
		stack_id TEXT PRIMARY KEY,
		outputs TEXT NOT NULL
	);`,
}

// spaceAdmin is the one system role the setup stack looks up.
var spaceAdmin = slapi.Role{ID: "space-admin", Slug: "space-admin", Name: "Space admin",
	Description: "Full control of the space and its stacks", Actions: []string{"SPACE_ADMIN"}, IsSystem: true}

// newULID returns a 26-character upper-case ID shaped like Spacelift's ULIDs.
func newULID() string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	out := make([]byte, 26)
	for i := range out {
		out[i] = alphabet[int(b[i%16]+byte(i*7))%32]
	}
	return string(out)
}

func checksum(v string) string {
	s := sha256.Sum256([]byte(v))
	return hex.EncodeToString(s[:])
}

// StackForToken resolves a run token to its stack (slapi.Backend).
func (e *Engine) StackForToken(token string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.tokens[token]; ok && token != "" {
		return t.stackID, nil
	}
	return "", slapi.ErrUnauthorized
}

// issueToken gives a run its API token; revoked when the run ends.
func (e *Engine) issueToken(stackID, runID string) (string, func()) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := "sandbox-run-" + hex.EncodeToString(b)
	e.mu.Lock()
	e.tokens[tok] = runToken{stackID: stackID, runID: runID}
	e.mu.Unlock()
	return tok, func() {
		e.mu.Lock()
		delete(e.tokens, tok)
		e.mu.Unlock()
	}
}

type runToken struct{ stackID, runID string }

func notFound(what string) error { return fmt.Errorf("%s: %w", what, slapi.ErrNotFound) }

// stackFromSpec fills the engine's view of a stack from the provider's spec.
func (e *Engine) stackFromSpec(id string, spec slapi.StackSpec) Stack {
	s := Stack{ID: id, Name: spec.Name, Description: spec.Description, Branch: spec.Branch,
		ProjectRoot: spec.ProjectRoot, AdditionalGlobs: slices.Clone(spec.AdditionalProjectGlobs),
		Labels: slices.Clone(spec.Labels), Autodeploy: spec.Autodeploy, Administrative: spec.Administrative, Spec: spec}
	// The git host keys repositories by owner/name; Spacelift's repository
	// is the name within the VCS namespace.
	ns := spec.Namespace
	if ns == "" {
		ns = ownerOf(e.cfg.Repository)
	}
	s.Repository = ns + "/" + spec.Repository
	for _, l := range spec.Labels {
		if v, ok := strings.CutPrefix(l, labelManagedBy); ok {
			s.ManagedBy = v
		}
		if v, ok := strings.CutPrefix(l, labelEnvironmentID); ok {
			s.EnvironmentID = v
		}
	}
	if s.EnvironmentID != "" {
		s.Service = strings.TrimSuffix(spec.Name, "-"+s.EnvironmentID)
	}
	slices.Sort(s.Labels)
	return s
}

func (e *Engine) apiStack(s Stack) slapi.Stack {
	state := s.State
	if state == "" {
		state = StackNone
	}
	return slapi.Stack{ID: s.ID, StackSpec: s.Spec, State: state, TrackedCommit: s.TrackedCommit}
}

func normalizeSpec(spec slapi.StackSpec) slapi.StackSpec {
	if spec.SpaceID == "" {
		spec.SpaceID = "root"
	}
	spec.Labels = nonNil(slices.Sorted(slices.Values(spec.Labels)))
	spec.AdditionalProjectGlobs = nonNil(slices.Sorted(slices.Values(spec.AdditionalProjectGlobs)))
	return spec
}

func validSpec(spec slapi.StackSpec) error {
	switch {
	case strings.TrimSpace(spec.Name) == "":
		return fmt.Errorf("stack name is empty: %w", slapi.ErrInvalid)
	case spec.Repository == "" || strings.Contains(spec.Repository, "/"):
		return fmt.Errorf("stack %q: repository %q must be a repository name without the owner: %w", spec.Name, spec.Repository, slapi.ErrInvalid)
	case spec.Branch == "":
		return fmt.Errorf("stack %q: branch is empty: %w", spec.Name, slapi.ErrInvalid)
	}
	return nil
}

// CreateStack creates a stack; its ID is the slug of its name unless given.
func (e *Engine) CreateStack(ctx context.Context, spec slapi.StackSpec) (slapi.Stack, error) {
	if err := validSpec(spec); err != nil {
		return slapi.Stack{}, err
	}
	spec = normalizeSpec(spec)
	id := spec.Slug
	if id == "" {
		id = Slug(spec.Name)
	}
	if id == "" {
		return slapi.Stack{}, fmt.Errorf("stack name %q has no letters or digits for a slug: %w", spec.Name, slapi.ErrInvalid)
	}
	spec.Slug = id
	if cur, err := e.st.stack(ctx, id); err == nil {
		return slapi.Stack{}, &slapi.ConflictError{Existing: e.apiStack(cur)}
	} else if !errors.Is(err, ErrNotFound) {
		return slapi.Stack{}, err
	}
	s := e.stackFromSpec(id, spec)
	s.State = StackNone
	s.Env = map[string]string{}
	if err := e.st.putStack(ctx, s); err != nil {
		return slapi.Stack{}, err
	}
	e.emit(Event{Kind: "stack", StackID: id, State: "CREATED"})
	return e.apiStack(s), nil
}

// GetStack reads a stack.
func (e *Engine) GetStack(ctx context.Context, id string) (slapi.Stack, error) {
	s, err := e.st.stack(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return slapi.Stack{}, notFound("stack " + id)
	}
	if err != nil {
		return slapi.Stack{}, err
	}
	return e.apiStack(s), nil
}

// UpdateStack changes a stack's settings; its variables, attachments, state
// and tracked commit stay.
func (e *Engine) UpdateStack(ctx context.Context, id string, spec slapi.StackSpec) (slapi.Stack, error) {
	if err := validSpec(spec); err != nil {
		return slapi.Stack{}, err
	}
	cur, err := e.st.stack(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return slapi.Stack{}, notFound("stack " + id)
	}
	if err != nil {
		return slapi.Stack{}, err
	}
	spec = normalizeSpec(spec)
	spec.Slug = id
	s := e.stackFromSpec(id, spec)
	s.State, s.TrackedCommit, s.CreatedAt = cur.State, cur.TrackedCommit, cur.CreatedAt
	if err := e.st.putStack(ctx, s); err != nil {
		return slapi.Stack{}, err
	}
	e.emit(Event{Kind: "stack", StackID: id, State: "UPDATED"})
	return e.apiStack(s), nil
}

// DeleteStack deletes a stack at once, or (destroy) queues its destroy run
// and leaves it DELETING until that run has finished, as stackDelete with
// destroyResources does.
func (e *Engine) DeleteStack(ctx context.Context, id string, destroy bool) (slapi.Stack, error) {
	s, err := e.st.stack(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return slapi.Stack{}, notFound("stack " + id)
	}
	if err != nil {
		return slapi.Stack{}, err
	}
	if s.Spec.ProtectFromDeletion {
		return slapi.Stack{}, fmt.Errorf("stack %s is protected from deletion: %w", id, slapi.ErrInvalid)
	}
	if !destroy {
		has, err := e.st.hasState(ctx, id)
		if err != nil {
			return slapi.Stack{}, err
		}
		if has {
			e.log.Warn("stack deleted without destroying its resources: they are orphaned", "stack", id)
		}
		if err := e.st.deleteStack(ctx, id); err != nil {
			return slapi.Stack{}, err
		}
		e.emit(Event{Kind: "stack", StackID: id, State: "DELETED"})
		return e.apiStack(s), nil
	}
	if err := e.requestDestroy(ctx, s, "destructor: the manager removed the environment"); err != nil {
		return slapi.Stack{}, err
	}
	s.State = StackDeleting
	return e.apiStack(s), nil
}

// requestDestroy marks a stack DELETING and queues its destroy run, once.
func (e *Engine) requestDestroy(ctx context.Context, s Stack, cause string) error {
	if s.State != StackDeleting {
		if err := e.st.setStackState(ctx, s.ID, StackDeleting); err != nil {
			return err
		}
		e.emit(Event{Kind: "stack", StackID: s.ID, State: StackDeleting})
	}
	runs, err := e.st.runs(ctx, s.ID, 50)
	if err != nil {
		return err
	}
	for _, x := range runs {
		if x.Type == RunDestroy && !Terminal(x.State) {
			return nil
		}
	}
	head := s.TrackedCommit
	if h, err := e.src.Head(ctx, s.Repository, s.Branch); err == nil {
		head = h
	}
	_, err = e.enqueue(ctx, Run{StackID: s.ID, Type: RunDestroy, Branch: s.Branch, Commit: head,
		TriggeredBy: "destructor", Cause: cause})
	return err
}

// PutEnvVar creates or replaces a stack's environment variable.
func (e *Engine) PutEnvVar(ctx context.Context, stackID, name string, spec slapi.EnvVarSpec) (slapi.EnvVar, error) {
	if name == "" {
		return slapi.EnvVar{}, fmt.Errorf("environment variable name is empty: %w", slapi.ErrInvalid)
	}
	if _, err := e.st.stack(ctx, stackID); errors.Is(err, ErrNotFound) {
		return slapi.EnvVar{}, notFound("stack " + stackID)
	} else if err != nil {
		return slapi.EnvVar{}, err
	}
	if _, err := e.st.db.ExecContext(ctx, `INSERT INTO sl_env_vars (stack_id, name, value, write_only, description) VALUES (?,?,?,?,?)
		ON CONFLICT(stack_id, name) DO UPDATE SET value=excluded.value, write_only=excluded.write_only, description=excluded.description`,
		stackID, name, spec.Value, b2i(spec.WriteOnly), spec.Description); err != nil {
		return slapi.EnvVar{}, fmt.Errorf("save variable %s of %s: %w", name, stackID, err)
	}
	e.emit(Event{Kind: "stack", StackID: stackID, State: "UPDATED"})
	return envVarView(stackID, name, spec.Value, spec.WriteOnly, spec.Description), nil
}

func envVarView(stackID, name, value string, writeOnly bool, desc string) slapi.EnvVar {
	v := slapi.EnvVar{StackID: stackID, Name: name, WriteOnly: writeOnly, Description: desc, Checksum: checksum(value)}
	if !writeOnly {
		v.Value = value
	}
	return v
}

// GetEnvVar reads a variable; write-only values are not returned.
func (e *Engine) GetEnvVar(ctx context.Context, stackID, name string) (slapi.EnvVar, error) {
	var value, desc string
	var wo int
	err := e.st.db.QueryRowContext(ctx, `SELECT value, write_only, description FROM sl_env_vars WHERE stack_id = ? AND name = ?`,
		stackID, name).Scan(&value, &wo, &desc)
	if errors.Is(err, sql.ErrNoRows) {
		return slapi.EnvVar{}, notFound("variable " + name + " of stack " + stackID)
	}
	if err != nil {
		return slapi.EnvVar{}, fmt.Errorf("read variable %s of %s: %w", name, stackID, err)
	}
	return envVarView(stackID, name, value, wo == 1, desc), nil
}

// DeleteEnvVar removes a variable.
func (e *Engine) DeleteEnvVar(ctx context.Context, stackID, name string) error {
	if _, err := e.GetEnvVar(ctx, stackID, name); err != nil {
		return err
	}
	if err := e.st.deleteEnvVar(ctx, stackID, name); err != nil {
		if errors.Is(err, ErrDestroyPending) {
			return fmt.Errorf("%w: %w", err, slapi.ErrInvalid)
		}
		return err
	}
	e.emit(Event{Kind: "stack", StackID: stackID, State: "UPDATED"})
	return nil
}

var policyTypes = map[string]bool{"ACCESS": true, "APPROVAL": true, "GIT_PUSH": true, "INITIALIZATION": true, "INTENT": true,
	"LOGIN": true, "PLAN": true, "TASK": true, "TRIGGER": true, "NOTIFICATION": true}

// CreatePolicy stores a policy under the slug of its name.
func (e *Engine) CreatePolicy(ctx context.Context, spec slapi.PolicySpec) (slapi.Policy, error) {
	if spec.Name == "" || spec.Body == "" {
		return slapi.Policy{}, fmt.Errorf("policy %q: name and body are required: %w", spec.Name, slapi.ErrInvalid)
	}
	if !policyTypes[spec.Type] {
		return slapi.Policy{}, fmt.Errorf("policy %q: type %q is not a Spacelift policy type: %w", spec.Name, spec.Type, slapi.ErrInvalid)
	}
	if spec.EngineType == "" {
		spec.EngineType = "REGO_V0"
	}
	if spec.SpaceID == "" {
		spec.SpaceID = "root"
	}
	id := Slug(spec.Name)
	if _, err := e.GetPolicy(ctx, id); err == nil {
		return slapi.Policy{}, fmt.Errorf("policy %s already exists: %w", id, slapi.ErrConflict)
	}
	if _, err := e.st.db.ExecContext(ctx, `INSERT INTO sl_policies (id, type, spec) VALUES (?,?,?)`, id, spec.Type, mustJSON(spec)); err != nil {
		return slapi.Policy{}, fmt.Errorf("save policy %s: %w", id, err)
	}
	return slapi.Policy{ID: id, PolicySpec: spec}, nil
}

// GetPolicy reads a policy.
func (e *Engine) GetPolicy(ctx context.Context, id string) (slapi.Policy, error) {
	var spec string
	err := e.st.db.QueryRowContext(ctx, `SELECT spec FROM sl_policies WHERE id = ?`, id).Scan(&spec)
	if errors.Is(err, sql.ErrNoRows) {
		return slapi.Policy{}, notFound("policy " + id)
	}
	if err != nil {
		return slapi.Policy{}, fmt.Errorf("read policy %s: %w", id, err)
	}
	p := slapi.Policy{ID: id}
	if err := json.Unmarshal([]byte(spec), &p.PolicySpec); err != nil {
		return slapi.Policy{}, fmt.Errorf("read policy %s: %w", id, err)
	}
	return p, nil
}

// UpdatePolicy changes a policy; its type is immutable.
func (e *Engine) UpdatePolicy(ctx context.Context, id string, spec slapi.PolicySpec) (slapi.Policy, error) {
	cur, err := e.GetPolicy(ctx, id)
	if err != nil {
		return slapi.Policy{}, err
	}
	if spec.Type != cur.Type {
		return slapi.Policy{}, fmt.Errorf("policy %s: type %s cannot change to %s: %w", id, cur.Type, spec.Type, slapi.ErrInvalid)
	}
	if spec.EngineType == "" {
		spec.EngineType = "REGO_V0"
	}
	if spec.SpaceID == "" {
		spec.SpaceID = "root"
	}
	if _, err := e.st.db.ExecContext(ctx, `UPDATE sl_policies SET spec = ? WHERE id = ?`, mustJSON(spec), id); err != nil {
		return slapi.Policy{}, fmt.Errorf("save policy %s: %w", id, err)
	}
	return slapi.Policy{ID: id, PolicySpec: spec}, nil
}

// DeletePolicy removes a policy and its attachments.
func (e *Engine) DeletePolicy(ctx context.Context, id string) error {
	if _, err := e.GetPolicy(ctx, id); err != nil {
		return err
	}
	return e.st.tx(ctx, "delete policy "+id, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sl_policy_attachments WHERE policy = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sl_policies WHERE id = ?`, id)
		return err
	})
}

// AttachPolicy attaches a policy to a stack, once.
func (e *Engine) AttachPolicy(ctx context.Context, policyID, stackID string) (slapi.Attachment, error) {
	p, err := e.GetPolicy(ctx, policyID)
	if err != nil {
		return slapi.Attachment{}, err
	}
	if p.Type == "LOGIN" {
		return slapi.Attachment{}, fmt.Errorf("policy %s: LOGIN policies cannot be attached: %w", policyID, slapi.ErrInvalid)
	}
	if _, err := e.GetStack(ctx, stackID); err != nil {
		return slapi.Attachment{}, err
	}
	if _, err := e.GetPolicyAttachment(ctx, policyID, stackID); err == nil {
		return slapi.Attachment{}, fmt.Errorf("policy %s is attached to stack %s already: %w", policyID, stackID, slapi.ErrConflict)
	}
	if _, err := e.st.db.ExecContext(ctx, `INSERT INTO sl_policy_attachments (stack_id, policy) VALUES (?,?)`, stackID, policyID); err != nil {
		return slapi.Attachment{}, fmt.Errorf("attach %s to %s: %w", policyID, stackID, err)
	}
	e.emit(Event{Kind: "stack", StackID: stackID, State: "UPDATED"})
	return slapi.Attachment{ID: policyID + "/" + stackID, PolicyID: policyID, StackID: stackID}, nil
}

// GetPolicyAttachment reads an attachment.
func (e *Engine) GetPolicyAttachment(ctx context.Context, policyID, stackID string) (slapi.Attachment, error) {
	var n int
	if err := e.st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sl_policy_attachments WHERE stack_id = ? AND policy = ?`,
		stackID, policyID).Scan(&n); err != nil {
		return slapi.Attachment{}, fmt.Errorf("read attachment of %s to %s: %w", policyID, stackID, err)
	}
	if n == 0 {
		return slapi.Attachment{}, notFound("attachment of policy " + policyID + " to stack " + stackID)
	}
	return slapi.Attachment{ID: policyID + "/" + stackID, PolicyID: policyID, StackID: stackID}, nil
}

// DetachPolicy removes an attachment.
func (e *Engine) DetachPolicy(ctx context.Context, policyID, stackID string) error {
	if _, err := e.GetPolicyAttachment(ctx, policyID, stackID); err != nil {
		return err
	}
	if _, err := e.st.db.ExecContext(ctx, `DELETE FROM sl_policy_attachments WHERE stack_id = ? AND policy = ?`, stackID, policyID); err != nil {
		return fmt.Errorf("detach %s from %s: %w", policyID, stackID, err)
	}
	return nil
}

// CreateAWSIntegration stores an integration under a new ULID.
func (e *Engine) CreateAWSIntegration(ctx context.Context, spec slapi.AWSIntegrationSpec) (slapi.AWSIntegration, error) {
	return e.putAWSIntegration(ctx, newULID(), spec)
}

func (e *Engine) putAWSIntegration(ctx context.Context, id string, spec slapi.AWSIntegrationSpec) (slapi.AWSIntegration, error) {
	if spec.Name == "" || !strings.HasPrefix(spec.RoleARN, "arn:") {
		return slapi.AWSIntegration{}, fmt.Errorf("AWS integration %q: name and a role_arn (arn:...) are required, got role_arn %q: %w",
			spec.Name, spec.RoleARN, slapi.ErrInvalid)
	}
	if spec.DurationSeconds == 0 {
		spec.DurationSeconds = 900
	}
	if spec.SpaceID == "" {
		spec.SpaceID = "root"
	}
	if _, err := e.st.db.ExecContext(ctx, `INSERT INTO sl_aws_integrations (id, spec) VALUES (?,?)
		ON CONFLICT(id) DO UPDATE SET spec=excluded.spec`, id, mustJSON(spec)); err != nil {
		return slapi.AWSIntegration{}, fmt.Errorf("save AWS integration %s: %w", id, err)
	}
	return slapi.AWSIntegration{ID: id, AWSIntegrationSpec: spec}, nil
}

// GetAWSIntegration reads an integration.
func (e *Engine) GetAWSIntegration(ctx context.Context, id string) (slapi.AWSIntegration, error) {
	var spec string
	err := e.st.db.QueryRowContext(ctx, `SELECT spec FROM sl_aws_integrations WHERE id = ?`, id).Scan(&spec)
	if errors.Is(err, sql.ErrNoRows) {
		return slapi.AWSIntegration{}, notFound("AWS integration " + id)
	}
	if err != nil {
		return slapi.AWSIntegration{}, fmt.Errorf("read AWS integration %s: %w", id, err)
	}
	out := slapi.AWSIntegration{ID: id}
	if err := json.Unmarshal([]byte(spec), &out.AWSIntegrationSpec); err != nil {
		return slapi.AWSIntegration{}, fmt.Errorf("read AWS integration %s: %w", id, err)
	}
	return out, nil
}

// UpdateAWSIntegration changes an integration.
func (e *Engine) UpdateAWSIntegration(ctx context.Context, id string, spec slapi.AWSIntegrationSpec) (slapi.AWSIntegration, error) {
	if _, err := e.GetAWSIntegration(ctx, id); err != nil {
		return slapi.AWSIntegration{}, err
	}
	return e.putAWSIntegration(ctx, id, spec)
}

// DeleteAWSIntegration removes an integration and its attachments.
func (e *Engine) DeleteAWSIntegration(ctx context.Context, id string) error {
	if _, err := e.GetAWSIntegration(ctx, id); err != nil {
		return err
	}
	return e.st.tx(ctx, "delete AWS integration "+id, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sl_aws_attachments WHERE integration_id = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sl_aws_integrations WHERE id = ?`, id)
		return err
	})
}

// AttachAWSIntegration gives a stack the integration's credentials.
func (e *Engine) AttachAWSIntegration(ctx context.Context, integrationID string, spec slapi.AWSAttachmentSpec) (slapi.AWSAttachment, error) {
	if _, err := e.GetAWSIntegration(ctx, integrationID); err != nil {
		return slapi.AWSAttachment{}, err
	}
	if _, err := e.GetStack(ctx, spec.StackID); err != nil {
		return slapi.AWSAttachment{}, err
	}
	if _, err := e.GetAWSAttachment(ctx, integrationID, spec.StackID); err == nil {
		return slapi.AWSAttachment{}, fmt.Errorf("AWS integration %s is attached to stack %s already: %w", integrationID, spec.StackID, slapi.ErrConflict)
	}
	aid := newULID()
	if _, err := e.st.db.ExecContext(ctx, `INSERT INTO sl_aws_attachments (integration_id, stack_id, attachment_id, read, write) VALUES (?,?,?,?,?)`,
		integrationID, spec.StackID, aid, b2i(spec.Read), b2i(spec.Write)); err != nil {
		return slapi.AWSAttachment{}, fmt.Errorf("attach AWS integration %s to %s: %w", integrationID, spec.StackID, err)
	}
	return slapi.AWSAttachment{ID: integrationID + "/" + spec.StackID, AttachmentID: aid, IntegrationID: integrationID,
		StackID: spec.StackID, Read: spec.Read, Write: spec.Write}, nil
}

// GetAWSAttachment reads an integration's attachment to a stack.
func (e *Engine) GetAWSAttachment(ctx context.Context, integrationID, stackID string) (slapi.AWSAttachment, error) {
	var aid string
	var r, w int
	err := e.st.db.QueryRowContext(ctx, `SELECT attachment_id, read, write FROM sl_aws_attachments WHERE integration_id = ? AND stack_id = ?`,
		integrationID, stackID).Scan(&aid, &r, &w)
	if errors.Is(err, sql.ErrNoRows) {
		return slapi.AWSAttachment{}, notFound("attachment of AWS integration " + integrationID + " to stack " + stackID)
	}
	if err != nil {
		return slapi.AWSAttachment{}, fmt.Errorf("read attachment of %s to %s: %w", integrationID, stackID, err)
	}
	return slapi.AWSAttachment{ID: integrationID + "/" + stackID, AttachmentID: aid, IntegrationID: integrationID,
		StackID: stackID, Read: r == 1, Write: w == 1}, nil
}

// UpdateAWSAttachment changes read/write.
func (e *Engine) UpdateAWSAttachment(ctx context.Context, integrationID string, spec slapi.AWSAttachmentSpec) (slapi.AWSAttachment, error) {
	cur, err := e.GetAWSAttachment(ctx, integrationID, spec.StackID)
	if err != nil {
		return slapi.AWSAttachment{}, err
	}
	if _, err := e.st.db.ExecContext(ctx, `UPDATE sl_aws_attachments SET read = ?, write = ? WHERE integration_id = ? AND stack_id = ?`,
		b2i(spec.Read), b2i(spec.Write), integrationID, spec.StackID); err != nil {
		return slapi.AWSAttachment{}, fmt.Errorf("update attachment of %s to %s: %w", integrationID, spec.StackID, err)
	}
	cur.Read, cur.Write = spec.Read, spec.Write
	return cur, nil
}

// DetachAWSIntegration removes an attachment.
func (e *Engine) DetachAWSIntegration(ctx context.Context, integrationID, stackID string) error {
	if _, err := e.GetAWSAttachment(ctx, integrationID, stackID); err != nil {
		return err
	}
	if _, err := e.st.db.ExecContext(ctx, `DELETE FROM sl_aws_attachments WHERE integration_id = ? AND stack_id = ?`, integrationID, stackID); err != nil {
		return fmt.Errorf("detach AWS integration %s from %s: %w", integrationID, stackID, err)
	}
	return nil
}

// Role finds the system role by name or ID.
func (e *Engine) Role(_ context.Context, name, id string) (slapi.Role, error) {
	if (name != "" && name == spaceAdmin.Name) || (id != "" && id == spaceAdmin.ID) {
		return spaceAdmin, nil
	}
	return slapi.Role{}, notFound(fmt.Sprintf("role (name %q, id %q)", name, id))
}

// CreateRoleAttachment grants a role to a stack in a space.
func (e *Engine) CreateRoleAttachment(ctx context.Context, spec slapi.RoleAttachmentSpec) (slapi.RoleAttachment, error) {
	if _, err := e.Role(ctx, "", spec.RoleID); err != nil {
		return slapi.RoleAttachment{}, err
	}
	if _, err := e.GetStack(ctx, spec.StackID); err != nil {
		return slapi.RoleAttachment{}, err
	}
	var n int
	if err := e.st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sl_role_attachments WHERE role_id = ? AND space_id = ? AND stack_id = ?`,
		spec.RoleID, spec.SpaceID, spec.StackID).Scan(&n); err != nil {
		return slapi.RoleAttachment{}, fmt.Errorf("read role attachments: %w", err)
	}
	if n > 0 {
		return slapi.RoleAttachment{}, fmt.Errorf("role %s in space %s is attached to stack %s already: %w", spec.RoleID, spec.SpaceID, spec.StackID, slapi.ErrConflict)
	}
	id := newULID()
	if _, err := e.st.db.ExecContext(ctx, `INSERT INTO sl_role_attachments (id, role_id, space_id, stack_id) VALUES (?,?,?,?)`,
		id, spec.RoleID, spec.SpaceID, spec.StackID); err != nil {
		return slapi.RoleAttachment{}, fmt.Errorf("save role attachment: %w", err)
	}
	return slapi.RoleAttachment{ID: id, RoleAttachmentSpec: spec}, nil
}

// GetRoleAttachment reads a role attachment.
func (e *Engine) GetRoleAttachment(ctx context.Context, id string) (slapi.RoleAttachment, error) {
	out := slapi.RoleAttachment{ID: id}
	err := e.st.db.QueryRowContext(ctx, `SELECT role_id, space_id, stack_id FROM sl_role_attachments WHERE id = ?`, id).
		Scan(&out.RoleID, &out.SpaceID, &out.StackID)
	if errors.Is(err, sql.ErrNoRows) {
		return slapi.RoleAttachment{}, notFound("role attachment " + id)
	}
	if err != nil {
		return slapi.RoleAttachment{}, fmt.Errorf("read role attachment %s: %w", id, err)
	}
	return out, nil
}

// DeleteRoleAttachment removes a role attachment.
func (e *Engine) DeleteRoleAttachment(ctx context.Context, id string) error {
	if _, err := e.GetRoleAttachment(ctx, id); err != nil {
		return err
	}
	if _, err := e.st.db.ExecContext(ctx, `DELETE FROM sl_role_attachments WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete role attachment %s: %w", id, err)
	}
	return nil
}

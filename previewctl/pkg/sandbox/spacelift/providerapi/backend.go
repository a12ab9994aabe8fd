// Package providerapi is the stand-in's side of what runs call: the API
// that the sandbox's terraform-provider-spacelift calls (slapi.Backend,
// served by slapi's server), which does what the real provider's GraphQL
// mutations do to Spacelift's records, done to the store; the run tokens
// that authenticate those calls; and each stack's state, served to tofu as
// OpenTofu's http backend. The stacks, variables and attachments the
// engine knows are exactly those these calls created.
//
// What the API cannot do on its own it asks the engine through Hooks:
// queueing a stack's destroy run (a stack deleted with destroy_resources)
// and telling the engine's subscribers that a stack changed.
package providerapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"

	"preview-environments/previewctl/internal/sandbox/slapi"
	"preview-environments/previewctl/pkg/sandbox/spacelift/store"
)

var _ slapi.Backend = (*Backend)(nil)

// Hooks are what the provider API asks of the engine.
type Hooks struct {
	// Destroy marks a stack DELETING and queues its destroy run, once
	// (DeleteStack with destroy).
	Destroy func(ctx context.Context, s store.Stack, cause string) error
	// Changed tells the engine's subscribers that a stack changed (state
	// CREATED, UPDATED or DELETED).
	Changed func(stackID, state string)
}

// Backend implements slapi.Backend on the store.
type Backend struct {
	st     *store.Store
	tokens *Tokens
	// namespace is the VCS namespace of a stack whose spec names none: the
	// owner of the sandbox's monorepo.
	namespace string
	log       *slog.Logger
	hooks     Hooks
}

// New returns the provider API on st, authenticating runs by the tokens
// the engine issues from tokens; namespace is the owner of the sandbox's
// monorepo, the VCS namespace of stacks whose spec names none.
func New(st *store.Store, tokens *Tokens, namespace string, log *slog.Logger, hooks Hooks) *Backend {
	return &Backend{st: st, tokens: tokens, namespace: namespace, log: log, hooks: hooks}
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

// Slug derives a stack ID from its name the way Spacelift's slugs look:
// lowercase, runs of other characters folded into one dash.
func Slug(name string) string {
	return strings.Trim(slugRE.ReplaceAllString(strings.ToLower(name), "-"), "-")
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
func (b *Backend) StackForToken(token string) (string, error) { return b.tokens.stack(token) }

func notFound(what string) error { return fmt.Errorf("%s: %w", what, slapi.ErrNotFound) }

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// stackFromSpec fills the engine's view of a stack from the provider's spec.
func (b *Backend) stackFromSpec(id string, spec slapi.StackSpec) store.Stack {
	s := store.Stack{ID: id, Name: spec.Name, Description: spec.Description, Branch: spec.Branch,
		ProjectRoot: spec.ProjectRoot, AdditionalGlobs: slices.Clone(spec.AdditionalProjectGlobs),
		Labels: slices.Clone(spec.Labels), Autodeploy: spec.Autodeploy, Administrative: spec.Administrative, Spec: spec}
	// The git host keys repositories by owner/name; Spacelift's repository
	// is the name within the VCS namespace.
	ns := spec.Namespace
	if ns == "" {
		ns = b.namespace
	}
	s.Repository = ns + "/" + spec.Repository
	for _, l := range spec.Labels {
		if v, ok := strings.CutPrefix(l, store.LabelManagedBy); ok {
			s.ManagedBy = v
		}
		if v, ok := strings.CutPrefix(l, store.LabelEnvironmentID); ok {
			s.EnvironmentID = v
		}
	}
	s.Role = store.StackRole(spec.Labels, s.EnvironmentID)
	if s.EnvironmentID != "" {
		// <service>-<id> for the service stack, <service>-<id>-<role> for
		// the others.
		name := spec.Name
		if s.Role != store.RoleService {
			name = strings.TrimSuffix(name, "-"+s.Role)
		}
		s.Service = strings.TrimSuffix(name, "-"+s.EnvironmentID)
	}
	slices.Sort(s.Labels)
	return s
}

func apiStack(s store.Stack) slapi.Stack {
	state := s.State
	if state == "" {
		state = store.StackNone
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
func (b *Backend) CreateStack(ctx context.Context, spec slapi.StackSpec) (slapi.Stack, error) {
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
	if cur, err := b.st.Stack(ctx, id); err == nil {
		return slapi.Stack{}, &slapi.ConflictError{Existing: apiStack(cur)}
	} else if !errors.Is(err, store.ErrNotFound) {
		return slapi.Stack{}, err
	}
	s := b.stackFromSpec(id, spec)
	s.State = store.StackNone
	s.Env = map[string]string{}
	if err := b.st.PutStack(ctx, s); err != nil {
		return slapi.Stack{}, err
	}
	b.hooks.Changed(id, "CREATED")
	return apiStack(s), nil
}

// GetStack reads a stack.
func (b *Backend) GetStack(ctx context.Context, id string) (slapi.Stack, error) {
	s, err := b.st.Stack(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return slapi.Stack{}, notFound("stack " + id)
	}
	if err != nil {
		return slapi.Stack{}, err
	}
	return apiStack(s), nil
}

// UpdateStack changes a stack's settings; its variables, attachments, state
// and tracked commit stay.
func (b *Backend) UpdateStack(ctx context.Context, id string, spec slapi.StackSpec) (slapi.Stack, error) {
	if err := validSpec(spec); err != nil {
		return slapi.Stack{}, err
	}
	cur, err := b.st.Stack(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return slapi.Stack{}, notFound("stack " + id)
	}
	if err != nil {
		return slapi.Stack{}, err
	}
	spec = normalizeSpec(spec)
	spec.Slug = id
	s := b.stackFromSpec(id, spec)
	s.State, s.TrackedCommit, s.CreatedAt = cur.State, cur.TrackedCommit, cur.CreatedAt
	if err := b.st.PutStack(ctx, s); err != nil {
		return slapi.Stack{}, err
	}
	b.hooks.Changed(id, "UPDATED")
	return apiStack(s), nil
}

// DeleteStack deletes a stack at once, or (destroy) queues its destroy run
// and leaves it DELETING until that run has finished, as stackDelete with
// destroyResources does.
func (b *Backend) DeleteStack(ctx context.Context, id string, destroy bool) (slapi.Stack, error) {
	s, err := b.st.Stack(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return slapi.Stack{}, notFound("stack " + id)
	}
	if err != nil {
		return slapi.Stack{}, err
	}
	if s.Spec.ProtectFromDeletion {
		return slapi.Stack{}, fmt.Errorf("stack %s is protected from deletion: %w", id, slapi.ErrInvalid)
	}
	if ds, err := b.dependents(ctx, id); err != nil {
		return slapi.Stack{}, err
	} else if len(ds) > 0 {
		return slapi.Stack{}, fmt.Errorf("stack %s has dependents (%s): delete their dependencies on it first: %w",
			id, strings.Join(ds, ", "), slapi.ErrConflict)
	}
	if !destroy {
		has, err := b.st.HasState(ctx, id)
		if err != nil {
			return slapi.Stack{}, err
		}
		if has {
			b.log.Warn("stack deleted without destroying its resources: they are orphaned", "stack", id)
		}
		if err := b.st.DeleteStack(ctx, id); err != nil {
			return slapi.Stack{}, err
		}
		b.hooks.Changed(id, "DELETED")
		return apiStack(s), nil
	}
	if err := b.hooks.Destroy(ctx, s, "destructor: the manager removed the environment"); err != nil {
		return slapi.Stack{}, err
	}
	s.State = store.StackDeleting
	return apiStack(s), nil
}

// PutEnvVar creates or replaces a stack's environment variable.
func (b *Backend) PutEnvVar(ctx context.Context, stackID, name string, spec slapi.EnvVarSpec) (slapi.EnvVar, error) {
	if name == "" {
		return slapi.EnvVar{}, fmt.Errorf("environment variable name is empty: %w", slapi.ErrInvalid)
	}
	if _, err := b.st.Stack(ctx, stackID); errors.Is(err, store.ErrNotFound) {
		return slapi.EnvVar{}, notFound("stack " + stackID)
	} else if err != nil {
		return slapi.EnvVar{}, err
	}
	if err := b.st.PutEnvVar(ctx, stackID, name, spec); err != nil {
		return slapi.EnvVar{}, err
	}
	b.hooks.Changed(stackID, "UPDATED")
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
func (b *Backend) GetEnvVar(ctx context.Context, stackID, name string) (slapi.EnvVar, error) {
	v, err := b.st.EnvVar(ctx, stackID, name)
	if errors.Is(err, store.ErrNotFound) {
		return slapi.EnvVar{}, notFound("variable " + name + " of stack " + stackID)
	}
	if err != nil {
		return slapi.EnvVar{}, err
	}
	return envVarView(stackID, name, v.Value, v.WriteOnly, v.Description), nil
}

// DeleteEnvVar removes a variable.
func (b *Backend) DeleteEnvVar(ctx context.Context, stackID, name string) error {
	if _, err := b.GetEnvVar(ctx, stackID, name); err != nil {
		return err
	}
	if err := b.st.DeleteEnvVar(ctx, stackID, name); err != nil {
		if errors.Is(err, store.ErrDestroyPending) {
			return fmt.Errorf("%w: %w", err, slapi.ErrInvalid)
		}
		return err
	}
	b.hooks.Changed(stackID, "UPDATED")
	return nil
}

var policyTypes = map[string]bool{"ACCESS": true, "APPROVAL": true, "GIT_PUSH": true, "INITIALIZATION": true, "INTENT": true,
	"LOGIN": true, "PLAN": true, "TASK": true, "TRIGGER": true, "NOTIFICATION": true}

// CreatePolicy stores a policy under the slug of its name.
func (b *Backend) CreatePolicy(ctx context.Context, spec slapi.PolicySpec) (slapi.Policy, error) {
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
	if _, err := b.GetPolicy(ctx, id); err == nil {
		return slapi.Policy{}, fmt.Errorf("policy %s already exists: %w", id, slapi.ErrConflict)
	}
	if err := b.st.InsertPolicy(ctx, id, spec); err != nil {
		return slapi.Policy{}, err
	}
	return slapi.Policy{ID: id, PolicySpec: spec}, nil
}

// GetPolicy reads a policy.
func (b *Backend) GetPolicy(ctx context.Context, id string) (slapi.Policy, error) {
	spec, err := b.st.Policy(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return slapi.Policy{}, notFound("policy " + id)
	}
	if err != nil {
		return slapi.Policy{}, err
	}
	return slapi.Policy{ID: id, PolicySpec: spec}, nil
}

// UpdatePolicy changes a policy; its type is immutable.
func (b *Backend) UpdatePolicy(ctx context.Context, id string, spec slapi.PolicySpec) (slapi.Policy, error) {
	cur, err := b.GetPolicy(ctx, id)
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
	if err := b.st.UpdatePolicy(ctx, id, spec); err != nil {
		return slapi.Policy{}, err
	}
	return slapi.Policy{ID: id, PolicySpec: spec}, nil
}

// DeletePolicy removes a policy and its attachments.
func (b *Backend) DeletePolicy(ctx context.Context, id string) error {
	if _, err := b.GetPolicy(ctx, id); err != nil {
		return err
	}
	return b.st.DeletePolicy(ctx, id)
}

// AttachPolicy attaches a policy to a stack, once.
func (b *Backend) AttachPolicy(ctx context.Context, policyID, stackID string) (slapi.Attachment, error) {
	p, err := b.GetPolicy(ctx, policyID)
	if err != nil {
		return slapi.Attachment{}, err
	}
	if p.Type == "LOGIN" {
		return slapi.Attachment{}, fmt.Errorf("policy %s: LOGIN policies cannot be attached: %w", policyID, slapi.ErrInvalid)
	}
	if _, err := b.GetStack(ctx, stackID); err != nil {
		return slapi.Attachment{}, err
	}
	if _, err := b.GetPolicyAttachment(ctx, policyID, stackID); err == nil {
		return slapi.Attachment{}, fmt.Errorf("policy %s is attached to stack %s already: %w", policyID, stackID, slapi.ErrConflict)
	}
	if err := b.st.AttachPolicy(ctx, policyID, stackID); err != nil {
		return slapi.Attachment{}, err
	}
	b.hooks.Changed(stackID, "UPDATED")
	return slapi.Attachment{ID: policyID + "/" + stackID, PolicyID: policyID, StackID: stackID}, nil
}

// GetPolicyAttachment reads an attachment.
func (b *Backend) GetPolicyAttachment(ctx context.Context, policyID, stackID string) (slapi.Attachment, error) {
	ok, err := b.st.PolicyAttached(ctx, policyID, stackID)
	if err != nil {
		return slapi.Attachment{}, err
	}
	if !ok {
		return slapi.Attachment{}, notFound("attachment of policy " + policyID + " to stack " + stackID)
	}
	return slapi.Attachment{ID: policyID + "/" + stackID, PolicyID: policyID, StackID: stackID}, nil
}

// DetachPolicy removes an attachment.
func (b *Backend) DetachPolicy(ctx context.Context, policyID, stackID string) error {
	if _, err := b.GetPolicyAttachment(ctx, policyID, stackID); err != nil {
		return err
	}
	return b.st.DetachPolicy(ctx, policyID, stackID)
}

// CreateAWSIntegration stores an integration under a new ULID.
func (b *Backend) CreateAWSIntegration(ctx context.Context, spec slapi.AWSIntegrationSpec) (slapi.AWSIntegration, error) {
	return b.putAWSIntegration(ctx, newULID(), spec)
}

func (b *Backend) putAWSIntegration(ctx context.Context, id string, spec slapi.AWSIntegrationSpec) (slapi.AWSIntegration, error) {
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
	if err := b.st.PutAWSIntegration(ctx, id, spec); err != nil {
		return slapi.AWSIntegration{}, err
	}
	return slapi.AWSIntegration{ID: id, AWSIntegrationSpec: spec}, nil
}

// GetAWSIntegration reads an integration.
func (b *Backend) GetAWSIntegration(ctx context.Context, id string) (slapi.AWSIntegration, error) {
	spec, err := b.st.AWSIntegration(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return slapi.AWSIntegration{}, notFound("AWS integration " + id)
	}
	if err != nil {
		return slapi.AWSIntegration{}, err
	}
	return slapi.AWSIntegration{ID: id, AWSIntegrationSpec: spec}, nil
}

// UpdateAWSIntegration changes an integration.
func (b *Backend) UpdateAWSIntegration(ctx context.Context, id string, spec slapi.AWSIntegrationSpec) (slapi.AWSIntegration, error) {
	if _, err := b.GetAWSIntegration(ctx, id); err != nil {
		return slapi.AWSIntegration{}, err
	}
	return b.putAWSIntegration(ctx, id, spec)
}

// DeleteAWSIntegration removes an integration and its attachments.
func (b *Backend) DeleteAWSIntegration(ctx context.Context, id string) error {
	if _, err := b.GetAWSIntegration(ctx, id); err != nil {
		return err
	}
	return b.st.DeleteAWSIntegration(ctx, id)
}

// AttachAWSIntegration gives a stack the integration's credentials.
func (b *Backend) AttachAWSIntegration(ctx context.Context, integrationID string, spec slapi.AWSAttachmentSpec) (slapi.AWSAttachment, error) {
	if _, err := b.GetAWSIntegration(ctx, integrationID); err != nil {
		return slapi.AWSAttachment{}, err
	}
	if _, err := b.GetStack(ctx, spec.StackID); err != nil {
		return slapi.AWSAttachment{}, err
	}
	if _, err := b.GetAWSAttachment(ctx, integrationID, spec.StackID); err == nil {
		return slapi.AWSAttachment{}, fmt.Errorf("AWS integration %s is attached to stack %s already: %w", integrationID, spec.StackID, slapi.ErrConflict)
	}
	a := slapi.AWSAttachment{ID: integrationID + "/" + spec.StackID, AttachmentID: newULID(), IntegrationID: integrationID,
		StackID: spec.StackID, Read: spec.Read, Write: spec.Write}
	if err := b.st.InsertAWSAttachment(ctx, a); err != nil {
		return slapi.AWSAttachment{}, err
	}
	return a, nil
}

// GetAWSAttachment reads an integration's attachment to a stack.
func (b *Backend) GetAWSAttachment(ctx context.Context, integrationID, stackID string) (slapi.AWSAttachment, error) {
	a, err := b.st.AWSAttachment(ctx, integrationID, stackID)
	if errors.Is(err, store.ErrNotFound) {
		return slapi.AWSAttachment{}, notFound("attachment of AWS integration " + integrationID + " to stack " + stackID)
	}
	if err != nil {
		return slapi.AWSAttachment{}, err
	}
	a.ID = integrationID + "/" + stackID
	return a, nil
}

// UpdateAWSAttachment changes read/write.
func (b *Backend) UpdateAWSAttachment(ctx context.Context, integrationID string, spec slapi.AWSAttachmentSpec) (slapi.AWSAttachment, error) {
	cur, err := b.GetAWSAttachment(ctx, integrationID, spec.StackID)
	if err != nil {
		return slapi.AWSAttachment{}, err
	}
	if err := b.st.UpdateAWSAttachment(ctx, integrationID, spec.StackID, spec.Read, spec.Write); err != nil {
		return slapi.AWSAttachment{}, err
	}
	cur.Read, cur.Write = spec.Read, spec.Write
	return cur, nil
}

// DetachAWSIntegration removes an attachment.
func (b *Backend) DetachAWSIntegration(ctx context.Context, integrationID, stackID string) error {
	if _, err := b.GetAWSAttachment(ctx, integrationID, stackID); err != nil {
		return err
	}
	return b.st.DeleteAWSAttachment(ctx, integrationID, stackID)
}

// Role finds the system role by name or ID.
func (b *Backend) Role(_ context.Context, name, id string) (slapi.Role, error) {
	if (name != "" && name == spaceAdmin.Name) || (id != "" && id == spaceAdmin.ID) {
		return spaceAdmin, nil
	}
	return slapi.Role{}, notFound(fmt.Sprintf("role (name %q, id %q)", name, id))
}

// CreateRoleAttachment grants a role to a stack in a space.
func (b *Backend) CreateRoleAttachment(ctx context.Context, spec slapi.RoleAttachmentSpec) (slapi.RoleAttachment, error) {
	if _, err := b.Role(ctx, "", spec.RoleID); err != nil {
		return slapi.RoleAttachment{}, err
	}
	if _, err := b.GetStack(ctx, spec.StackID); err != nil {
		return slapi.RoleAttachment{}, err
	}
	attached, err := b.st.RoleAttached(ctx, spec)
	if err != nil {
		return slapi.RoleAttachment{}, err
	}
	if attached {
		return slapi.RoleAttachment{}, fmt.Errorf("role %s in space %s is attached to stack %s already: %w", spec.RoleID, spec.SpaceID, spec.StackID, slapi.ErrConflict)
	}
	a := slapi.RoleAttachment{ID: newULID(), RoleAttachmentSpec: spec}
	if err := b.st.InsertRoleAttachment(ctx, a); err != nil {
		return slapi.RoleAttachment{}, err
	}
	return a, nil
}

// GetRoleAttachment reads a role attachment.
func (b *Backend) GetRoleAttachment(ctx context.Context, id string) (slapi.RoleAttachment, error) {
	a, err := b.st.RoleAttachment(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return slapi.RoleAttachment{}, notFound("role attachment " + id)
	}
	if err != nil {
		return slapi.RoleAttachment{}, err
	}
	return a, nil
}

// DeleteRoleAttachment removes a role attachment.
func (b *Backend) DeleteRoleAttachment(ctx context.Context, id string) error {
	if _, err := b.GetRoleAttachment(ctx, id); err != nil {
		return err
	}
	return b.st.DeleteRoleAttachment(ctx, id)
}

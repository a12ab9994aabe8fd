package slapi

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Memory is a Backend held in memory, with the semantics every Backend must
// have. It exists for tests of the server, the client and the provider; the
// sandbox's real Backend is SQLite-backed (pkg/sandbox/spacelift).
//
// A destroy queued by DeleteStack(destroy=true) has no run to wait for
// here: it finishes successfully DestroyDelay after it was queued, or, when
// DestroyDelay is 0, when a test calls FinishDestroy.
type Memory struct {
	// DestroyDelay is set before the Memory is used.
	DestroyDelay time.Duration

	mu       sync.Mutex
	tokens   map[string]string
	stacks   map[string]*memStack
	policies map[string]Policy
	// attachments is policy ID -> stack ID -> attachment.
	attachments map[string]map[string]Attachment
	awsInts     map[string]AWSIntegration
	// awsAtts is integration ID -> stack ID -> attachment.
	awsAtts  map[string]map[string]AWSAttachment
	roleAtts map[string]RoleAttachment
	deps     map[string]StackDependency // by ID
	refs     map[string]Reference       // by ID
	log      []string
}

type memStack struct {
	Stack
	env map[string]EnvVarSpec
	// before is the state a failed destroy returns the stack to.
	before string
}

var _ Backend = (*Memory)(nil)

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{
		tokens:      map[string]string{},
		stacks:      map[string]*memStack{},
		policies:    map[string]Policy{},
		attachments: map[string]map[string]Attachment{},
		awsInts:     map[string]AWSIntegration{},
		awsAtts:     map[string]map[string]AWSAttachment{},
		roleAtts:    map[string]RoleAttachment{},
		deps:        map[string]StackDependency{},
		refs:        map[string]Reference{},
	}
}

// SetToken makes token authenticate as the run of stackID. An empty stackID
// is an API key that belongs to no stack (what setup/ runs with): it
// authenticates, but GET /current-stack is 404.
func (m *Memory) SetToken(token, stackID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[token] = stackID
}

// Log returns what changed, in order, one line per change: tests use it to
// check the order in which tofu called the API.
func (m *Memory) Log() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.log)
}

func (m *Memory) logf(format string, args ...any) {
	m.log = append(m.log, fmt.Sprintf(format, args...))
}

// Dump is everything a Memory holds, values of write-only variables
// included, for tests to assert on.
type Dump struct {
	Stacks            []Stack
	EnvVars           []EnvVar // sorted by stack, then name; Value never hidden
	Policies          []Policy
	PolicyAttachments []Attachment
	AWSIntegrations   []AWSIntegration
	AWSAttachments    []AWSAttachment
	RoleAttachments   []RoleAttachment
	Dependencies      []StackDependency
	References        []Reference
}

// Dump returns a copy of the contents, each list sorted by ID.
func (m *Memory) Dump() Dump {
	m.mu.Lock()
	defer m.mu.Unlock()
	var d Dump
	for _, id := range sortedKeys(m.stacks) {
		s := m.stacks[id]
		d.Stacks = append(d.Stacks, cloneStack(s.Stack))
		for _, name := range sortedKeys(s.env) {
			d.EnvVars = append(d.EnvVars, envVar(id, name, s.env[name], false))
		}
	}
	for _, id := range sortedKeys(m.policies) {
		d.Policies = append(d.Policies, m.policies[id])
		for _, sid := range sortedKeys(m.attachments[id]) {
			d.PolicyAttachments = append(d.PolicyAttachments, m.attachments[id][sid])
		}
	}
	for _, id := range sortedKeys(m.awsInts) {
		d.AWSIntegrations = append(d.AWSIntegrations, m.awsInts[id])
		for _, sid := range sortedKeys(m.awsAtts[id]) {
			d.AWSAttachments = append(d.AWSAttachments, m.awsAtts[id][sid])
		}
	}
	for _, id := range sortedKeys(m.roleAtts) {
		d.RoleAttachments = append(d.RoleAttachments, m.roleAtts[id])
	}
	for _, id := range sortedKeys(m.deps) {
		d.Dependencies = append(d.Dependencies, m.deps[id])
	}
	for _, id := range sortedKeys(m.refs) {
		d.References = append(d.References, m.refs[id])
	}
	return d
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func cloneStack(s Stack) Stack {
	s.Labels = slices.Clone(s.Labels)
	s.AdditionalProjectGlobs = slices.Clone(s.AdditionalProjectGlobs)
	return s
}

func envVar(stackID, name string, spec EnvVarSpec, hide bool) EnvVar {
	v := EnvVar{StackID: stackID, Name: name, Value: spec.Value, WriteOnly: spec.WriteOnly, Description: spec.Description, Checksum: Checksum(spec.Value)}
	if hide && spec.WriteOnly {
		v.Value = ""
	}
	return v
}

// normalizeStack applies the defaults of empty fields that a Backend stores
// explicitly.
func normalizeStack(spec StackSpec) StackSpec {
	if spec.SpaceID == "" {
		spec.SpaceID = DefaultSpaceID
	}
	spec.Labels = slices.Clone(spec.Labels)
	spec.AdditionalProjectGlobs = slices.Clone(spec.AdditionalProjectGlobs)
	return spec
}

func (m *Memory) StackForToken(token string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.tokens[token]
	if !ok {
		return "", ErrUnauthorized
	}
	return id, nil
}

func (m *Memory) CreateStack(_ context.Context, spec StackSpec) (Stack, error) {
	if err := spec.Validate(); err != nil {
		return Stack{}, err
	}
	spec = normalizeStack(spec)
	if spec.Slug == "" {
		spec.Slug = Slug(spec.Name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if existing, ok := m.stacks[spec.Slug]; ok {
		return Stack{}, &ConflictError{Existing: cloneStack(existing.Stack)}
	}
	s := &memStack{Stack: Stack{ID: spec.Slug, StackSpec: spec, State: StateNone}, env: map[string]EnvVarSpec{}}
	m.stacks[s.ID] = s
	m.logf("create stack %s", s.ID)
	return cloneStack(s.Stack), nil
}

func (m *Memory) stack(id string) (*memStack, error) {
	s, ok := m.stacks[id]
	if !ok {
		return nil, fmt.Errorf("stack %s: %w", id, ErrNotFound)
	}
	return s, nil
}

func (m *Memory) GetStack(_ context.Context, id string) (Stack, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.stack(id)
	if err != nil {
		return Stack{}, err
	}
	return cloneStack(s.Stack), nil
}

func (m *Memory) UpdateStack(_ context.Context, id string, spec StackSpec) (Stack, error) {
	if err := spec.Validate(); err != nil {
		return Stack{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.stack(id)
	if err != nil {
		return Stack{}, err
	}
	// The slug is the ID: it is fixed at creation, renaming keeps it.
	if spec.Slug != "" && spec.Slug != s.ID {
		return Stack{}, fmt.Errorf("%w: the slug of stack %s is immutable", ErrInvalid, s.ID)
	}
	spec = normalizeStack(spec)
	spec.Slug = s.ID
	s.StackSpec = spec
	m.logf("update stack %s", id)
	return cloneStack(s.Stack), nil
}

func (m *Memory) DeleteStack(_ context.Context, id string, destroy bool) (Stack, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.stack(id)
	if err != nil {
		return Stack{}, err
	}
	if s.ProtectFromDeletion {
		return Stack{}, fmt.Errorf("%w: stack %s is protected from deletion", ErrInvalid, id)
	}
	for _, d := range m.deps {
		if d.DependsOnStackID == id {
			return Stack{}, fmt.Errorf("%w: stack %s has dependents (%s depends on it): delete the dependency first", ErrConflict, id, d.StackID)
		}
	}
	if s.State == StateDeleting {
		if destroy {
			return cloneStack(s.Stack), nil
		}
		return Stack{}, fmt.Errorf("%w: stack %s is being destroyed", ErrConflict, id)
	}
	if !destroy {
		m.removeStack(id)
		m.logf("delete stack %s", id)
		return Stack{}, nil
	}
	s.before, s.State = s.State, StateDeleting
	m.logf("destroy stack %s queued with %d env vars, %d policy attachments, %d aws attachments, %d role attachments",
		id, len(s.env), m.countPolicyAttachments(id), m.countAWSAttachments(id), m.countRoleAttachments(id))
	if m.DestroyDelay > 0 {
		time.AfterFunc(m.DestroyDelay, func() { _ = m.FinishDestroy(id, true) })
	}
	return cloneStack(s.Stack), nil
}

// FinishDestroy ends the queued destroy of stack id: ok deletes the stack,
// !ok returns it to the state it had before.
func (m *Memory) FinishDestroy(id string, ok bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.stack(id)
	if err != nil {
		return err
	}
	if s.State != StateDeleting {
		return fmt.Errorf("%w: stack %s is %s, not %s", ErrConflict, id, s.State, StateDeleting)
	}
	if !ok {
		s.State = s.before
		m.logf("destroy stack %s failed", id)
		return nil
	}
	m.removeStack(id)
	m.logf("destroy stack %s finished", id)
	return nil
}

// removeStack deletes a stack with everything attached to it, as Spacelift
// does.
func (m *Memory) removeStack(id string) {
	delete(m.stacks, id)
	for _, byStack := range m.attachments {
		delete(byStack, id)
	}
	for _, byStack := range m.awsAtts {
		delete(byStack, id)
	}
	for rid, a := range m.roleAtts {
		if a.StackID == id {
			delete(m.roleAtts, rid)
		}
	}
	for did, d := range m.deps {
		if d.StackID == id {
			m.removeDependency(did)
		}
	}
}

func (m *Memory) removeDependency(id string) {
	delete(m.deps, id)
	for rid, r := range m.refs {
		if r.DependencyID == id {
			delete(m.refs, rid)
		}
	}
}

// dependsOn reports whether from reaches to through dependencies.
func (m *Memory) dependsOn(from, to string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(s string) bool {
		if s == to {
			return true
		}
		if seen[s] {
			return false
		}
		seen[s] = true
		for _, d := range m.deps {
			if d.StackID == s && walk(d.DependsOnStackID) {
				return true
			}
		}
		return false
	}
	return walk(from)
}

func (m *Memory) CreateStackDependency(_ context.Context, stackID string, spec StackDependencySpec) (StackDependency, error) {
	if err := spec.Validate(stackID); err != nil {
		return StackDependency{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range []string{stackID, spec.DependsOnStackID} {
		if _, err := m.stack(id); err != nil {
			return StackDependency{}, err
		}
	}
	for _, d := range m.deps {
		if d.StackID == stackID && d.DependsOnStackID == spec.DependsOnStackID {
			return StackDependency{}, fmt.Errorf("%w: stack %s already depends on %s", ErrConflict, stackID, spec.DependsOnStackID)
		}
	}
	if m.dependsOn(spec.DependsOnStackID, stackID) {
		return StackDependency{}, fmt.Errorf("%w: %s depending on %s would make a cycle", ErrInvalid, stackID, spec.DependsOnStackID)
	}
	d := StackDependency{ID: NewULID(), StackID: stackID, DependsOnStackID: spec.DependsOnStackID}
	m.deps[d.ID] = d
	m.logf("create dependency %s -> %s", stackID, spec.DependsOnStackID)
	return d, nil
}

func (m *Memory) dependency(stackID, id string) (StackDependency, error) {
	d, ok := m.deps[id]
	if !ok || d.StackID != stackID {
		return StackDependency{}, fmt.Errorf("dependency %s of stack %s: %w", id, stackID, ErrNotFound)
	}
	return d, nil
}

func (m *Memory) GetStackDependency(_ context.Context, stackID, id string) (StackDependency, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dependency(stackID, id)
}

func (m *Memory) DeleteStackDependency(_ context.Context, stackID, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.dependency(stackID, id)
	if err != nil {
		return err
	}
	m.removeDependency(id)
	m.logf("delete dependency %s -> %s", d.StackID, d.DependsOnStackID)
	return nil
}

// inputTaken reports whether another reference of the stack sets input.
func (m *Memory) inputTaken(stackID, input, except string) bool {
	for _, r := range m.refs {
		if r.StackID == stackID && r.InputName == input && r.ID != except {
			return true
		}
	}
	return false
}

func (m *Memory) AddReference(_ context.Context, stackID, dependencyID string, spec ReferenceSpec) (Reference, error) {
	if err := spec.Validate(); err != nil {
		return Reference{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.dependency(stackID, dependencyID); err != nil {
		return Reference{}, err
	}
	if m.inputTaken(stackID, spec.InputName, "") {
		return Reference{}, fmt.Errorf("%w: stack %s already has a reference setting %s", ErrConflict, stackID, spec.InputName)
	}
	r := Reference{ID: NewULID(), StackID: stackID, DependencyID: dependencyID, ReferenceSpec: spec}
	m.refs[r.ID] = r
	m.logf("add reference %s.%s -> %s", dependencyID, spec.OutputName, spec.InputName)
	return r, nil
}

func (m *Memory) reference(stackID, dependencyID, id string) (Reference, error) {
	r, ok := m.refs[id]
	if !ok || r.StackID != stackID || r.DependencyID != dependencyID {
		return Reference{}, fmt.Errorf("reference %s of dependency %s: %w", id, dependencyID, ErrNotFound)
	}
	return r, nil
}

func (m *Memory) GetReference(_ context.Context, stackID, dependencyID, id string) (Reference, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reference(stackID, dependencyID, id)
}

func (m *Memory) UpdateReference(_ context.Context, stackID, dependencyID, id string, spec ReferenceSpec) (Reference, error) {
	if err := spec.Validate(); err != nil {
		return Reference{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.reference(stackID, dependencyID, id)
	if err != nil {
		return Reference{}, err
	}
	if m.inputTaken(stackID, spec.InputName, id) {
		return Reference{}, fmt.Errorf("%w: stack %s already has a reference setting %s", ErrConflict, stackID, spec.InputName)
	}
	r.ReferenceSpec = spec
	m.refs[id] = r
	m.logf("update reference %s", id)
	return r, nil
}

func (m *Memory) DeleteReference(_ context.Context, stackID, dependencyID, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.reference(stackID, dependencyID, id); err != nil {
		return err
	}
	delete(m.refs, id)
	m.logf("delete reference %s", id)
	return nil
}

func (m *Memory) countPolicyAttachments(stackID string) int {
	n := 0
	for _, byStack := range m.attachments {
		if _, ok := byStack[stackID]; ok {
			n++
		}
	}
	return n
}

func (m *Memory) countAWSAttachments(stackID string) int {
	n := 0
	for _, byStack := range m.awsAtts {
		if _, ok := byStack[stackID]; ok {
			n++
		}
	}
	return n
}

func (m *Memory) countRoleAttachments(stackID string) int {
	n := 0
	for _, a := range m.roleAtts {
		if a.StackID == stackID {
			n++
		}
	}
	return n
}

func (m *Memory) PutEnvVar(_ context.Context, stackID, name string, spec EnvVarSpec) (EnvVar, error) {
	if err := ValidateEnvVarName(name); err != nil {
		return EnvVar{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.stack(stackID)
	if err != nil {
		return EnvVar{}, err
	}
	s.env[name] = spec
	m.logf("put env %s/%s", stackID, name)
	return envVar(stackID, name, spec, true), nil
}

func (m *Memory) GetEnvVar(_ context.Context, stackID, name string) (EnvVar, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.stack(stackID)
	if err != nil {
		return EnvVar{}, err
	}
	spec, ok := s.env[name]
	if !ok {
		return EnvVar{}, fmt.Errorf("environment variable %s of stack %s: %w", name, stackID, ErrNotFound)
	}
	return envVar(stackID, name, spec, true), nil
}

func (m *Memory) DeleteEnvVar(_ context.Context, stackID, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.stack(stackID)
	if err != nil {
		return err
	}
	if _, ok := s.env[name]; !ok {
		return fmt.Errorf("environment variable %s of stack %s: %w", name, stackID, ErrNotFound)
	}
	delete(s.env, name)
	m.logf("delete env %s/%s", stackID, name)
	return nil
}

func normalizePolicy(spec PolicySpec) PolicySpec {
	if spec.EngineType == "" {
		spec.EngineType = DefaultEngineType
	}
	if spec.SpaceID == "" {
		spec.SpaceID = DefaultSpaceID
	}
	spec.Labels = slices.Clone(spec.Labels)
	return spec
}

func (m *Memory) CreatePolicy(_ context.Context, spec PolicySpec) (Policy, error) {
	if err := spec.Validate(); err != nil {
		return Policy{}, err
	}
	p := Policy{ID: Slug(spec.Name), PolicySpec: normalizePolicy(spec)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.policies[p.ID]; ok {
		return Policy{}, fmt.Errorf("policy %s: %w", p.ID, ErrConflict)
	}
	m.policies[p.ID] = p
	m.logf("create policy %s", p.ID)
	return p, nil
}

func (m *Memory) GetPolicy(_ context.Context, id string) (Policy, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.policies[id]
	if !ok {
		return Policy{}, fmt.Errorf("policy %s: %w", id, ErrNotFound)
	}
	p.Labels = slices.Clone(p.Labels)
	return p, nil
}

func (m *Memory) UpdatePolicy(_ context.Context, id string, spec PolicySpec) (Policy, error) {
	if err := spec.Validate(); err != nil {
		return Policy{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.policies[id]
	if !ok {
		return Policy{}, fmt.Errorf("policy %s: %w", id, ErrNotFound)
	}
	if spec.Type != p.Type {
		return Policy{}, fmt.Errorf("%w: the type of policy %s is immutable (%s, not %s)", ErrInvalid, id, p.Type, spec.Type)
	}
	p.PolicySpec = normalizePolicy(spec)
	m.policies[id] = p
	m.logf("update policy %s", id)
	return p, nil
}

func (m *Memory) DeletePolicy(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.policies[id]; !ok {
		return fmt.Errorf("policy %s: %w", id, ErrNotFound)
	}
	delete(m.policies, id)
	delete(m.attachments, id)
	m.logf("delete policy %s", id)
	return nil
}

func (m *Memory) AttachPolicy(_ context.Context, policyID, stackID string) (Attachment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.policies[policyID]
	if !ok {
		return Attachment{}, fmt.Errorf("policy %s: %w", policyID, ErrNotFound)
	}
	if _, err := m.stack(stackID); err != nil {
		return Attachment{}, err
	}
	if p.Type == "LOGIN" {
		return Attachment{}, fmt.Errorf("%w: LOGIN policy %s cannot be attached to a stack", ErrInvalid, policyID)
	}
	if _, ok := m.attachments[policyID][stackID]; ok {
		return Attachment{}, fmt.Errorf("policy %s is attached to stack %s already: %w", policyID, stackID, ErrConflict)
	}
	a := Attachment{ID: policyID + "/" + stackID, PolicyID: policyID, StackID: stackID}
	if m.attachments[policyID] == nil {
		m.attachments[policyID] = map[string]Attachment{}
	}
	m.attachments[policyID][stackID] = a
	m.logf("attach policy %s to %s", policyID, stackID)
	return a, nil
}

func (m *Memory) GetPolicyAttachment(_ context.Context, policyID, stackID string) (Attachment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.attachments[policyID][stackID]
	if !ok {
		return Attachment{}, fmt.Errorf("attachment of policy %s to stack %s: %w", policyID, stackID, ErrNotFound)
	}
	return a, nil
}

func (m *Memory) DetachPolicy(_ context.Context, policyID, stackID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.attachments[policyID][stackID]; !ok {
		return fmt.Errorf("attachment of policy %s to stack %s: %w", policyID, stackID, ErrNotFound)
	}
	delete(m.attachments[policyID], stackID)
	m.logf("detach policy %s from %s", policyID, stackID)
	return nil
}

func normalizeAWSIntegration(spec AWSIntegrationSpec) AWSIntegrationSpec {
	if spec.SpaceID == "" {
		spec.SpaceID = DefaultSpaceID
	}
	if spec.DurationSeconds == 0 {
		spec.DurationSeconds = DefaultDurationSeconds
	}
	spec.Labels = slices.Clone(spec.Labels)
	return spec
}

func (m *Memory) CreateAWSIntegration(_ context.Context, spec AWSIntegrationSpec) (AWSIntegration, error) {
	if err := spec.Validate(); err != nil {
		return AWSIntegration{}, err
	}
	i := AWSIntegration{ID: NewULID(), AWSIntegrationSpec: normalizeAWSIntegration(spec)}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.awsInts[i.ID] = i
	m.logf("create aws integration %s", i.ID)
	return i, nil
}

func (m *Memory) GetAWSIntegration(_ context.Context, id string) (AWSIntegration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.awsInts[id]
	if !ok {
		return AWSIntegration{}, fmt.Errorf("aws integration %s: %w", id, ErrNotFound)
	}
	i.Labels = slices.Clone(i.Labels)
	return i, nil
}

func (m *Memory) UpdateAWSIntegration(_ context.Context, id string, spec AWSIntegrationSpec) (AWSIntegration, error) {
	if err := spec.Validate(); err != nil {
		return AWSIntegration{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.awsInts[id]
	if !ok {
		return AWSIntegration{}, fmt.Errorf("aws integration %s: %w", id, ErrNotFound)
	}
	i.AWSIntegrationSpec = normalizeAWSIntegration(spec)
	m.awsInts[id] = i
	m.logf("update aws integration %s", id)
	return i, nil
}

func (m *Memory) DeleteAWSIntegration(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.awsInts[id]; !ok {
		return fmt.Errorf("aws integration %s: %w", id, ErrNotFound)
	}
	delete(m.awsInts, id)
	delete(m.awsAtts, id)
	m.logf("delete aws integration %s", id)
	return nil
}

func (m *Memory) AttachAWSIntegration(_ context.Context, integrationID string, spec AWSAttachmentSpec) (AWSAttachment, error) {
	if err := spec.Validate(); err != nil {
		return AWSAttachment{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.awsInts[integrationID]; !ok {
		return AWSAttachment{}, fmt.Errorf("aws integration %s: %w", integrationID, ErrNotFound)
	}
	if _, err := m.stack(spec.StackID); err != nil {
		return AWSAttachment{}, err
	}
	if _, ok := m.awsAtts[integrationID][spec.StackID]; ok {
		return AWSAttachment{}, fmt.Errorf("aws integration %s is attached to stack %s already: %w", integrationID, spec.StackID, ErrConflict)
	}
	a := AWSAttachment{ID: integrationID + "/" + spec.StackID, AttachmentID: NewULID(), IntegrationID: integrationID, StackID: spec.StackID, Read: spec.Read, Write: spec.Write}
	if m.awsAtts[integrationID] == nil {
		m.awsAtts[integrationID] = map[string]AWSAttachment{}
	}
	m.awsAtts[integrationID][spec.StackID] = a
	m.logf("attach aws integration %s to %s", integrationID, spec.StackID)
	return a, nil
}

func (m *Memory) GetAWSAttachment(_ context.Context, integrationID, stackID string) (AWSAttachment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.awsAtts[integrationID][stackID]
	if !ok {
		return AWSAttachment{}, fmt.Errorf("attachment of aws integration %s to stack %s: %w", integrationID, stackID, ErrNotFound)
	}
	return a, nil
}

func (m *Memory) UpdateAWSAttachment(_ context.Context, integrationID string, spec AWSAttachmentSpec) (AWSAttachment, error) {
	if err := spec.Validate(); err != nil {
		return AWSAttachment{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.awsAtts[integrationID][spec.StackID]
	if !ok {
		return AWSAttachment{}, fmt.Errorf("attachment of aws integration %s to stack %s: %w", integrationID, spec.StackID, ErrNotFound)
	}
	a.Read, a.Write = spec.Read, spec.Write
	m.awsAtts[integrationID][spec.StackID] = a
	m.logf("update aws attachment %s", a.ID)
	return a, nil
}

func (m *Memory) DetachAWSIntegration(_ context.Context, integrationID, stackID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.awsAtts[integrationID][stackID]; !ok {
		return fmt.Errorf("attachment of aws integration %s to stack %s: %w", integrationID, stackID, ErrNotFound)
	}
	delete(m.awsAtts[integrationID], stackID)
	m.logf("detach aws integration %s from %s", integrationID, stackID)
	return nil
}

func (m *Memory) Role(_ context.Context, name, id string) (Role, error) {
	for _, r := range SystemRoles() {
		if (name != "" && r.Name == name) || (id != "" && r.ID == id) {
			return r, nil
		}
	}
	if id != "" {
		return Role{}, fmt.Errorf("role %s: %w", id, ErrNotFound)
	}
	return Role{}, fmt.Errorf("role named %q: %w", name, ErrNotFound)
}

func (m *Memory) CreateRoleAttachment(ctx context.Context, spec RoleAttachmentSpec) (RoleAttachment, error) {
	if err := spec.Validate(); err != nil {
		return RoleAttachment{}, err
	}
	if _, err := m.Role(ctx, "", spec.RoleID); err != nil {
		return RoleAttachment{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.stack(spec.StackID); err != nil {
		return RoleAttachment{}, err
	}
	for _, a := range m.roleAtts {
		if a.RoleAttachmentSpec == spec {
			return RoleAttachment{}, fmt.Errorf("role %s in space %s is attached to stack %s already (%s): %w", spec.RoleID, spec.SpaceID, spec.StackID, a.ID, ErrConflict)
		}
	}
	a := RoleAttachment{ID: NewULID(), RoleAttachmentSpec: spec}
	m.roleAtts[a.ID] = a
	m.logf("attach role %s in %s to %s", spec.RoleID, spec.SpaceID, spec.StackID)
	return a, nil
}

func (m *Memory) GetRoleAttachment(_ context.Context, id string) (RoleAttachment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.roleAtts[id]
	if !ok {
		return RoleAttachment{}, fmt.Errorf("role attachment %s: %w", id, ErrNotFound)
	}
	return a, nil
}

func (m *Memory) DeleteRoleAttachment(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.roleAtts[id]; !ok {
		return fmt.Errorf("role attachment %s: %w", id, ErrNotFound)
	}
	delete(m.roleAtts, id)
	m.logf("delete role attachment %s", id)
	return nil
}

// crockford is the alphabet of ULIDs.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewULID returns a ULID-shaped ID (26 Crockford base-32 characters, the
// first ten the millisecond time) as Spacelift assigns to integrations and
// role attachments.
func NewULID() string {
	var b [26]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 9; i >= 0; i-- {
		b[i] = crockford[ms&31]
		ms >>= 5
	}
	var r [16]byte
	_, _ = rand.Read(r[:])
	for i := 10; i < 26; i++ {
		b[i] = crockford[r[i-10]&31]
	}
	return string(b[:])
}

// Package slapi is the wire contract between the sandbox's Spacelift
// stand-in (the server, in pkg/sandbox/spacelift) and the sandbox's
// terraform-provider-spacelift (the client): the requests and answers of the
// handful of Spacelift operations that manager/, its template and setup/ use.
//
// Spacelift's real API is GraphQL; the stand-in speaks plain JSON over HTTP
// because only the provider talks to it, but it keeps the real API's
// behaviour where a plan or an apply can tell: slugs derived from names,
// conflicts on duplicates, write-only values never read back, deletion of a
// stack with destroy_resources queueing a destroy run and the stack staying
// in DELETING until that run has finished.
//
// Endpoint: the provider reads SPACELIFT_API_KEY_ENDPOINT (as the real
// provider does), which the stand-in sets for every run to
// http://<sandbox>/spacelift. Every request carries the run's token,
// SPACELIFT_API_TOKEN, as "Authorization: Bearer <token>"; a missing or
// unknown token is 401. The token names the run's stack, which is what
// data "spacelift_current_stack" reads.
//
// Routes (all bodies JSON; errors are {"error": "..."} with the status):
//
//	GET    /current-stack                        CurrentStack
//	POST   /stacks                               StackSpec -> 201 Stack | 409 Error{Stack: existing}
//	GET    /stacks/{id}                          Stack | 404
//	PUT    /stacks/{id}                          StackSpec -> Stack | 404
//	DELETE /stacks/{id}?destroy_resources=BOOL   false: 204 (deleted; resources orphaned)
//	                                             true:  202 Stack (state DELETING, a DESTROY run queued;
//	                                                    the stack is gone, 404, once that run FINISHED;
//	                                                    a FAILED destroy puts the stack back to its
//	                                                    last state, which the caller must report)
//	PUT    /stacks/{id}/env/{name}               EnvVarSpec -> EnvVar | 404 (no stack)
//	GET    /stacks/{id}/env/{name}               EnvVar | 404
//	DELETE /stacks/{id}/env/{name}               204 | 404
//	POST   /policies                             PolicySpec -> 201 Policy | 409
//	GET    /policies/{id}                        Policy | 404
//	PUT    /policies/{id}                        PolicySpec -> Policy | 404 (type is immutable: 400)
//	DELETE /policies/{id}                        204 | 404
//	POST   /policies/{id}/attachments            AttachmentSpec -> 201 Attachment | 404 | 409 (attached already)
//	GET    /policies/{id}/attachments/{stack}    Attachment | 404
//	DELETE /policies/{id}/attachments/{stack}    204 | 404
//	POST   /aws-integrations                     AWSIntegrationSpec -> 201 AWSIntegration
//	GET    /aws-integrations/{id}                AWSIntegration | 404
//	PUT    /aws-integrations/{id}                AWSIntegrationSpec -> AWSIntegration | 404
//	DELETE /aws-integrations/{id}                204 | 404
//	POST   /aws-integrations/{id}/attachments    AWSAttachmentSpec -> 201 AWSAttachment | 404 | 409
//	GET    /aws-integrations/{id}/attachments/{stack}  AWSAttachment | 404
//	PUT    /aws-integrations/{id}/attachments/{stack}  AWSAttachmentSpec -> AWSAttachment | 404
//	DELETE /aws-integrations/{id}/attachments/{stack}  204 | 404
//	POST   /stacks/{id}/dependencies             StackDependencySpec -> 201 StackDependency | 404 (either stack)
//	                                             | 409 (the pair exists) | 400 (on itself, or a cycle)
//	GET    /stacks/{id}/dependencies/{dep}       StackDependency | 404
//	DELETE /stacks/{id}/dependencies/{dep}       204 | 404 (its references go with it)
//	POST   /stacks/{id}/dependencies/{dep}/references        ReferenceSpec -> 201 Reference | 404
//	                                             | 409 (input_name taken on the stack)
//	GET    /stacks/{id}/dependencies/{dep}/references/{ref}  Reference | 404
//	PUT    /stacks/{id}/dependencies/{dep}/references/{ref}  ReferenceSpec -> Reference | 404 | 409
//	DELETE /stacks/{id}/dependencies/{dep}/references/{ref}  204 | 404
//	GET    /roles?name=NAME | /roles?id=ID        Role | 404 (the system role "Space admin", id space-admin, exists)
//	POST   /role-attachments                     RoleAttachmentSpec -> 201 RoleAttachment | 409
//	GET    /role-attachments/{id}                RoleAttachment | 404
//	DELETE /role-attachments/{id}                204 | 404
//
// A stack that other stacks depend on cannot be deleted (409), as on
// Spacelift: its dependents' dependencies must go first.
//
// A 404 on DELETE means the object is gone already: providers treat it as
// success (deleting a stack deletes its variables and attachments with it).
//
// The server (server.go) also answers 400 to a DELETE /stacks/{id} without
// destroy_resources, to a body with an unknown field or more than one JSON
// value, and to a spec its Validate method refuses (validate.go: backends
// may rely on it); 413 to a body over MaxBodyBytes; 404 and 405 to unknown
// routes and methods, all as Error JSON. A Backend stores specs as given
// except for the defaults of empty fields: Slug from Name, SpaceID
// "root", EngineType REGO_V0, DurationSeconds 900 (memory.go is the
// reference implementation, with the tests every Backend should pass in
// backend_test.go).
package slapi

import (
	"context"
	"errors"
)

// Environment variables that configure the provider inside a run.
const (
	EnvEndpoint = "SPACELIFT_API_KEY_ENDPOINT"
	EnvToken    = "SPACELIFT_API_TOKEN"
)

// Stack states the stand-in reports (Stack.State).
const (
	StateNone     = "NONE"
	StateActive   = "ACTIVE"
	StateFailed   = "FAILED"
	StateDeleting = "DELETING"
)

// Error is every non-2xx answer's body.
type Error struct {
	Error string `json:"error"`
	// Stack is the existing stack on a 409 from POST /stacks.
	Stack *Stack `json:"stack,omitempty"`
}

// CurrentStack is the stack whose run holds the token.
type CurrentStack struct {
	ID string `json:"id"`
}

// StackSpec is what a spacelift_stack's arguments set.
type StackSpec struct {
	Name                       string   `json:"name"`
	Slug                       string   `json:"slug,omitempty"` // "" derives it from Name
	Description                string   `json:"description"`
	Repository                 string   `json:"repository"` // without the owner
	Namespace                  string   `json:"namespace,omitempty"`
	Branch                     string   `json:"branch"`
	ProjectRoot                string   `json:"project_root"`
	AdditionalProjectGlobs     []string `json:"additional_project_globs"`
	Labels                     []string `json:"labels"`
	Autodeploy                 bool     `json:"autodeploy"`
	Administrative             bool     `json:"administrative"`
	SpaceID                    string   `json:"space_id"` // "" is "root"
	ManageState                bool     `json:"manage_state"`
	ProtectFromDeletion        bool     `json:"protect_from_deletion"`
	TerraformVersion           string   `json:"terraform_version"`
	TerraformWorkflowTool      string   `json:"terraform_workflow_tool"`
	TerraformWorkspace         string   `json:"terraform_workspace"`
	TerraformSmartSanitization bool     `json:"terraform_smart_sanitization"`
	WorkerPoolID               string   `json:"worker_pool_id"`
	RunnerImage                string   `json:"runner_image"`
}

// Stack is a stack as the stand-in stores it.
type Stack struct {
	ID string `json:"id"`
	StackSpec
	State string `json:"state"`
	// TrackedCommit is the sha of the stack's last applied tracked run.
	TrackedCommit string `json:"tracked_commit,omitempty"`
}

// EnvVarSpec is what a spacelift_environment_variable's arguments set.
type EnvVarSpec struct {
	Value       string `json:"value"`
	WriteOnly   bool   `json:"write_only"`
	Description string `json:"description"`
}

// EnvVar is a stack's environment variable. Value is empty when the
// variable is write-only (the real API never returns those values).
type EnvVar struct {
	StackID     string `json:"stack_id"`
	Name        string `json:"name"`
	Value       string `json:"value"`
	WriteOnly   bool   `json:"write_only"`
	Description string `json:"description"`
	// Checksum is the lowercase hex SHA-256 of the value.
	Checksum string `json:"checksum"`
}

// PolicySpec is what a spacelift_policy's arguments set.
type PolicySpec struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"` // GIT_PUSH, TRIGGER, PLAN, ...
	Body        string   `json:"body"`
	Description string   `json:"description"`
	EngineType  string   `json:"engine_type"` // REGO_V0 | REGO_V1; "" is REGO_V0
	Labels      []string `json:"labels"`
	SpaceID     string   `json:"space_id"`
}

// Policy is a stored policy; its ID is the slug of its name.
type Policy struct {
	ID string `json:"id"`
	PolicySpec
}

// AttachmentSpec attaches a policy to a stack.
type AttachmentSpec struct {
	StackID string `json:"stack_id"`
}

// Attachment is a policy attached to a stack; ID is "<policy>/<stack>".
type Attachment struct {
	ID       string `json:"id"`
	PolicyID string `json:"policy_id"`
	StackID  string `json:"stack_id"`
}

// AWSIntegrationSpec is what a spacelift_aws_integration's arguments set.
type AWSIntegrationSpec struct {
	Name                        string   `json:"name"`
	RoleARN                     string   `json:"role_arn"`
	Labels                      []string `json:"labels"`
	SpaceID                     string   `json:"space_id"`
	DurationSeconds             int64    `json:"duration_seconds"`
	Region                      string   `json:"region"`
	ExternalID                  string   `json:"external_id"`
	GenerateCredentialsInWorker bool     `json:"generate_credentials_in_worker"`
	AutoattachEnabled           bool     `json:"autoattach_enabled"`
	TagAssumeRole               bool     `json:"tag_assume_role"`
}

// AWSIntegration is a stored integration; the stand-in assigns IDs like
// Spacelift's ULIDs (26 characters).
type AWSIntegration struct {
	ID string `json:"id"`
	AWSIntegrationSpec
}

// AWSAttachmentSpec attaches an AWS integration to a stack.
type AWSAttachmentSpec struct {
	StackID string `json:"stack_id"`
	Read    bool   `json:"read"`
	Write   bool   `json:"write"`
}

// AWSAttachment is an integration attached to a stack. AttachmentID is the
// stand-in's own ID for it; ID is "<integration>/<stack>".
type AWSAttachment struct {
	ID            string `json:"id"`
	AttachmentID  string `json:"attachment_id"`
	IntegrationID string `json:"integration_id"`
	StackID       string `json:"stack_id"`
	Read          bool   `json:"read"`
	Write         bool   `json:"write"`
}

// StackDependencySpec is what a spacelift_stack_dependency's arguments set;
// the dependent stack is the route's {id}.
type StackDependencySpec struct {
	DependsOnStackID string `json:"depends_on_stack_id"`
}

// StackDependency makes StackID's tracked runs wait for DependsOnStackID's,
// and DependsOnStackID's finished runs trigger StackID's. ID is the
// stand-in's own (a ULID, like Spacelift's); the provider's resource ID is
// "<stack_id>/<id>".
type StackDependency struct {
	ID               string `json:"id"`
	StackID          string `json:"stack_id"`
	DependsOnStackID string `json:"depends_on_stack_id"`
}

// ReferenceSpec is what a spacelift_stack_dependency_reference's arguments
// set: the upstream stack's output OutputName becomes the dependent's
// environment variable InputName (e.g. TF_VAR_bucket) in its runs.
type ReferenceSpec struct {
	OutputName string `json:"output_name"`
	InputName  string `json:"input_name"`
	// TriggerAlways triggers the dependent after every upstream run, not
	// only when the output changed.
	TriggerAlways bool `json:"trigger_always"`
}

// Reference is a stored reference; the provider's resource ID is
// "<stack_id>/<dependency_id>/<id>".
type Reference struct {
	ID           string `json:"id"`
	StackID      string `json:"stack_id"`
	DependencyID string `json:"dependency_id"`
	ReferenceSpec
}

// Role is a Spacelift role (data "spacelift_role", looked up by name or role_id).
type Role struct {
	ID          string   `json:"id"`
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Actions     []string `json:"actions"`
	IsSystem    bool     `json:"is_system"`
}

// RoleAttachmentSpec grants a role in a space to a stack.
type RoleAttachmentSpec struct {
	RoleID  string `json:"role_id"`
	SpaceID string `json:"space_id"`
	StackID string `json:"stack_id"`
}

// RoleAttachment is a stored role attachment.
type RoleAttachment struct {
	ID string `json:"id"`
	RoleAttachmentSpec
}

// Backend is what the server needs of the stand-in. Errors wrapping
// ErrNotFound answer 404, ErrConflict 409, ErrInvalid 400; anything else 500.
// The server authenticates the token with StackForToken before any call.
type Backend interface {
	// StackForToken returns the ID of the stack whose run holds token, or
	// an error wrapping ErrUnauthorized.
	StackForToken(token string) (string, error)

	CreateStack(ctx context.Context, spec StackSpec) (Stack, error) // ErrConflict carries the existing stack: see ConflictError
	GetStack(ctx context.Context, id string) (Stack, error)
	UpdateStack(ctx context.Context, id string, spec StackSpec) (Stack, error)
	// DeleteStack deletes at once (destroy false) or queues the destroy run
	// and returns the stack in DELETING (destroy true).
	DeleteStack(ctx context.Context, id string, destroy bool) (Stack, error)

	PutEnvVar(ctx context.Context, stackID, name string, spec EnvVarSpec) (EnvVar, error)
	GetEnvVar(ctx context.Context, stackID, name string) (EnvVar, error)
	DeleteEnvVar(ctx context.Context, stackID, name string) error

	CreatePolicy(ctx context.Context, spec PolicySpec) (Policy, error)
	GetPolicy(ctx context.Context, id string) (Policy, error)
	UpdatePolicy(ctx context.Context, id string, spec PolicySpec) (Policy, error)
	DeletePolicy(ctx context.Context, id string) error
	AttachPolicy(ctx context.Context, policyID, stackID string) (Attachment, error)
	GetPolicyAttachment(ctx context.Context, policyID, stackID string) (Attachment, error)
	DetachPolicy(ctx context.Context, policyID, stackID string) error

	CreateAWSIntegration(ctx context.Context, spec AWSIntegrationSpec) (AWSIntegration, error)
	GetAWSIntegration(ctx context.Context, id string) (AWSIntegration, error)
	UpdateAWSIntegration(ctx context.Context, id string, spec AWSIntegrationSpec) (AWSIntegration, error)
	DeleteAWSIntegration(ctx context.Context, id string) error
	AttachAWSIntegration(ctx context.Context, integrationID string, spec AWSAttachmentSpec) (AWSAttachment, error)
	GetAWSAttachment(ctx context.Context, integrationID, stackID string) (AWSAttachment, error)
	UpdateAWSAttachment(ctx context.Context, integrationID string, spec AWSAttachmentSpec) (AWSAttachment, error)
	DetachAWSIntegration(ctx context.Context, integrationID, stackID string) error

	// CreateStackDependency makes stackID depend on spec.DependsOnStackID;
	// a dependency on itself or one that closes a cycle is ErrInvalid.
	CreateStackDependency(ctx context.Context, stackID string, spec StackDependencySpec) (StackDependency, error)
	GetStackDependency(ctx context.Context, stackID, id string) (StackDependency, error)
	DeleteStackDependency(ctx context.Context, stackID, id string) error
	// AddReference is ErrConflict when the dependent stack already has a
	// reference with the same InputName.
	AddReference(ctx context.Context, stackID, dependencyID string, spec ReferenceSpec) (Reference, error)
	GetReference(ctx context.Context, stackID, dependencyID, id string) (Reference, error)
	UpdateReference(ctx context.Context, stackID, dependencyID, id string, spec ReferenceSpec) (Reference, error)
	DeleteReference(ctx context.Context, stackID, dependencyID, id string) error

	// Role finds a role by name or by ID (one of them is set).
	Role(ctx context.Context, name, id string) (Role, error)
	CreateRoleAttachment(ctx context.Context, spec RoleAttachmentSpec) (RoleAttachment, error)
	GetRoleAttachment(ctx context.Context, id string) (RoleAttachment, error)
	DeleteRoleAttachment(ctx context.Context, id string) error
}

// Sentinel errors a Backend wraps.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrInvalid      = errors.New("invalid")
	ErrUnauthorized = errors.New("unauthorized")
)

// ConflictError is the ErrConflict of CreateStack: the stack that holds the
// slug already.
type ConflictError struct{ Existing Stack }

func (e *ConflictError) Error() string { return "stack " + e.Existing.ID + " already exists" }
func (e *ConflictError) Unwrap() error { return ErrConflict }

package slapi

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Defaults the stand-in applies to empty fields, shared by every Backend and
// by the provider, which sends them explicitly so that what it reads back
// equals what it planned.
const (
	DefaultSpaceID    = "root"
	DefaultEngineType = "REGO_V0"
	// DefaultWorkflowTool is Spacelift's default for terraform_workflow_tool.
	DefaultWorkflowTool = "TERRAFORM_FOSS"
	// DefaultDurationSeconds is the AWS integration's session length.
	DefaultDurationSeconds = 900
)

// SpaceAdminRoleID is the ID of the system role "Space admin" that setup/
// attaches to the manager stack.
const SpaceAdminRoleID = "space-admin"

// SystemRoles are the roles every stand-in has. Spacelift's real system
// roles are ULID-less legacy roles; only their names and slugs matter here.
func SystemRoles() []Role {
	return []Role{
		{ID: SpaceAdminRoleID, Slug: "space-admin", Name: "Space admin", Description: "Full control of a space", Actions: []string{"SPACE_ADMIN"}, IsSystem: true},
		{ID: "space-writer", Slug: "space-writer", Name: "Space writer", Description: "Can trigger runs and manage stacks in a space", Actions: []string{"SPACE_WRITE"}, IsSystem: true},
		{ID: "space-reader", Slug: "space-reader", Name: "Space reader", Description: "Read-only access to a space", Actions: []string{"SPACE_READ"}, IsSystem: true},
	}
}

// Slug derives an ID from a name as Spacelift does for stacks and policies:
// lowercase, every run of characters outside [a-z0-9] becomes one '-', and
// leading and trailing '-' are trimmed. "Hello Service: push" is
// "hello-service-push".
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}

// Checksum is EnvVar.Checksum: the lowercase hex SHA-256 of value.
func Checksum(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Validate checks what every Backend refuses with ErrInvalid; the server
// calls it before the Backend, so backends may rely on it.
func (s StackSpec) Validate() error {
	switch {
	case strings.TrimSpace(s.Name) == "":
		return invalid("stack name is required")
	case Slug(s.Name) == "" && s.Slug == "":
		return invalid("stack name %q has no character a slug can be made of", s.Name)
	case s.Slug != "" && Slug(s.Slug) != s.Slug:
		return invalid("slug %q is not a slug (lowercase letters, digits and single dashes)", s.Slug)
	case s.Repository == "":
		return invalid("stack repository is required")
	case strings.Contains(s.Repository, "/"):
		return invalid("stack repository %q must not name its owner", s.Repository)
	case s.Branch == "":
		return invalid("stack branch is required")
	}
	return nil
}

// ValidateEnvVarName accepts the names a shell can export.
func ValidateEnvVarName(name string) error {
	if name == "" {
		return invalid("environment variable name is required")
	}
	for i, r := range name {
		if r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return invalid("environment variable name %q is not a valid name", name)
	}
	return nil
}

// PolicyTypes are the policy types Spacelift accepts, deprecated aliases
// included.
var PolicyTypes = []string{
	"ACCESS", "APPROVAL", "GIT_PUSH", "INITIALIZATION", "INTENT", "LOGIN",
	"NOTIFICATION", "PLAN", "TASK", "TRIGGER",
	"STACK_ACCESS", "TASK_RUN", "TERRAFORM_PLAN",
}

// Validate checks a policy's required fields and enumerations.
func (s PolicySpec) Validate() error {
	switch {
	case strings.TrimSpace(s.Name) == "":
		return invalid("policy name is required")
	case Slug(s.Name) == "":
		return invalid("policy name %q has no character a slug can be made of", s.Name)
	case s.Body == "":
		return invalid("policy body is required")
	case !slices.Contains(PolicyTypes, s.Type):
		return invalid("policy type %q is not one of %s", s.Type, strings.Join(PolicyTypes, ", "))
	case s.EngineType != "" && s.EngineType != "REGO_V0" && s.EngineType != "REGO_V1":
		return invalid("engine_type %q is not REGO_V0 or REGO_V1", s.EngineType)
	}
	return nil
}

// Validate checks that the attachment names a stack.
func (s AttachmentSpec) Validate() error {
	if s.StackID == "" {
		return invalid("stack_id is required")
	}
	return nil
}

// Validate checks an AWS integration's required fields.
func (s AWSIntegrationSpec) Validate() error {
	switch {
	case strings.TrimSpace(s.Name) == "":
		return invalid("integration name is required")
	case !strings.HasPrefix(s.RoleARN, "arn:"):
		return invalid("role_arn %q is not an ARN", s.RoleARN)
	case s.DurationSeconds != 0 && (s.DurationSeconds < 900 || s.DurationSeconds > 43200):
		return invalid("duration_seconds %d is outside 900..43200", s.DurationSeconds)
	}
	return nil
}

// Validate checks that the attachment names a stack.
func (s AWSAttachmentSpec) Validate() error {
	if s.StackID == "" {
		return invalid("stack_id is required")
	}
	return nil
}

// Validate checks a role attachment's required fields.
func (s RoleAttachmentSpec) Validate() error {
	switch {
	case s.RoleID == "":
		return invalid("role_id is required")
	case s.SpaceID == "":
		return invalid("space_id is required")
	case s.StackID == "":
		return invalid("stack_id is required")
	}
	return nil
}

// Validate checks a dependency of the stack dependent.
func (s StackDependencySpec) Validate(dependent string) error {
	switch {
	case s.DependsOnStackID == "":
		return invalid("depends_on_stack_id is required")
	case s.DependsOnStackID == dependent:
		return invalid("stack %s cannot depend on itself", dependent)
	}
	return nil
}

// Validate checks a reference: the output is a Terraform output name and
// the input an environment variable name.
func (s ReferenceSpec) Validate() error {
	if s.OutputName == "" {
		return invalid("output_name is required")
	}
	for i, r := range s.OutputName {
		if r == '_' || r == '-' && i > 0 || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return invalid("output_name %q is not a Terraform output name", s.OutputName)
	}
	if err := ValidateEnvVarName(s.InputName); err != nil {
		return invalid("input_name: %v", err)
	}
	return nil
}

// Package store is what the sandbox's Spacelift stand-in keeps, in the
// sandbox's SQLite database: its model (stacks, runs, their changes and
// logs, policy decisions, dependencies), the schema and its migrations,
// and every SQL statement the stand-in runs. Nothing here decides what a
// run does or when; that is package spacelift's engine, and the provider's
// API over these records is package providerapi.
package store

import (
	"strings"
	"time"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

// Run types and states, spelled as Spacelift spells them (policy inputs use
// these strings).
const (
	RunTracked = "TRACKED"
	RunDestroy = "DESTROY"

	StateQueued       = "QUEUED"
	StatePreparing    = "PREPARING"
	StateInitializing = "INITIALIZING"
	StatePlanning     = "PLANNING"
	StateApplying     = "APPLYING"
	StateDestroying   = "DESTROYING"
	StateFinished     = "FINISHED"
	StateFailed       = "FAILED"
	StateCanceled     = "CANCELED"
	StateDiscarded    = "DISCARDED"
	StateStopped      = "STOPPED"
	StateSkipped      = "SKIPPED"
)

// Terminal reports whether a run in this state will never change again; the
// trigger policy is evaluated exactly when a run reaches one of these.
func Terminal(state string) bool {
	switch state {
	case StateFinished, StateFailed, StateCanceled, StateDiscarded, StateStopped, StateSkipped:
		return true
	}
	return false
}

// Stack lifecycle states the sandbox shows (Spacelift's stack.state mirrors
// the last run; DELETING is the destructor's window).
const (
	StackNone     = "NONE"
	StackActive   = "ACTIVE"
	StackDeleting = "DELETING"
)

// RoleService is the Role of the stack that serves an environment's URL.
const RoleService = "service"

// Labels with which the template marks a stack as a preview environment;
// the dashboard and policies read them.
const (
	LabelManagedBy     = "preview-environment-managed-by:"
	LabelEnvironmentID = "preview_environment_id:"
	// LabelStack names the stack's part of a multi-stack environment
	// (service, data); a stack without it is the service's.
	LabelStack = "preview-stack:"
)

// StackRole reads a stack's part of its environment from its labels.
func StackRole(labels []string, environmentID string) string {
	if environmentID == "" {
		return ""
	}
	for _, l := range labels {
		if v, ok := strings.CutPrefix(l, LabelStack); ok && v != "" {
			return v
		}
	}
	return RoleService
}

// Stack is one Spacelift stack.
type Stack struct {
	ID              string
	Name            string
	Description     string
	Repository      string // owner/repo of the sandbox's git host
	Branch          string
	ProjectRoot     string
	AdditionalGlobs []string
	Labels          []string
	Autodeploy      bool
	Administrative  bool
	ManagedBy       string // the manager stack that created it; "" for the manager itself
	EnvironmentID   string // the preview environment this stack serves
	Service         string
	// Role is the stack's part of its environment: RoleService (the one
	// serving the URL) or another, e.g. "data"; "" outside environments.
	Role string
	// DependsOn lists the stacks this one depends on (spacelift_stack_dependency).
	DependsOn     []string
	Policies      []string          // IDs of attached policies
	PolicyTypes   map[string]string `json:"-"` // policy ID -> type (GIT_PUSH, TRIGGER, ...)
	TrackedCommit string
	State         string
	Env           map[string]string // TF_VAR_* and other environment variables
	// Spec is the stack's settings as the provider sent them.
	Spec      slapi.StackSpec `json:"-"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Run is one run of a stack.
type Run struct {
	ID          string
	StackID     string
	Type        string
	State       string
	Branch      string
	Commit      string
	TriggeredBy string // null for pushes; the run ID for trigger-policy runs; "destructor" for destroys
	Cause       string // a sentence for people: why this run exists
	Changes     []Change
	History     []StateChange
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Entered is when the run entered state, from its history; zero if it
// never did.
func (r Run) Entered(state string) time.Time {
	for _, c := range r.History {
		if c.State == state {
			return c.At
		}
	}
	return time.Time{}
}

// StateChange is one entry of a run's state history.
type StateChange struct {
	State string    `json:"state"`
	At    time.Time `json:"at"`
}

// Change is one resource change of a run, shaped like Spacelift's
// run.changes[] entries.
type Change struct {
	Action  string         `json:"action"`
	Phase   string         `json:"phase"`
	Address string         `json:"address"`
	Type    string         `json:"type"`
	Name    string         `json:"name"`
	Values  map[string]any `json:"values,omitempty"`
	// Sensitive names the attributes the plan marks sensitive (smart
	// sanitization hashes only those).
	Sensitive []string `json:"sensitive,omitempty"`
}

// StackID is the stack a change belongs to (from its values).
func (c Change) StackID() string {
	if v, ok := c.Values["stack_id"].(string); ok {
		return v
	}
	if v, ok := c.Values["id"].(string); ok {
		return v
	}
	return ""
}

// Change actions as Spacelift reports them. spacelift_environment_variable
// is ForceNew on every argument, so a changed value is a replacement.
const (
	ActionAdded       = "added"
	ActionChanged     = "changed"
	ActionDeleted     = "deleted"
	ActionReplaced    = "destroy-Before-create-replaced"
	ActionReplacedCBD = "create-Before-destroy-replaced"
)

// LogLine is one line of a run's log.
type LogLine struct {
	At   time.Time `json:"at"`
	Line string    `json:"line"`
}

// PolicyEvaluation records one policy decision so people can see why a stack
// was, or was not, triggered.
type PolicyEvaluation struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Policy   string    `json:"policy"` // "push" or "trigger"
	StackID  string    `json:"stack_id"`
	RunID    string    `json:"run_id,omitempty"`
	Summary  string    `json:"summary"`  // what the input held, in a line
	Decision string    `json:"decision"` // what the policy answered, in a line
}

// Dependency is one stack dependency with its references, as the read API
// and the dashboard show it.
type Dependency struct {
	ID         string            `json:"id"`
	StackID    string            `json:"stack_id"`
	DependsOn  string            `json:"depends_on_stack_id"`
	References []slapi.Reference `json:"references"`
}

// Output is one output of a stack's state, as OpenTofu's state file holds
// it and as the store keeps it for the stack.
type Output struct {
	Value     any  `json:"value"`
	Sensitive bool `json:"sensitive"`
}

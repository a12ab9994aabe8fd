// Package spacelift is the sandbox's stand-in for Spacelift: stacks with
// labels, TF_VAR_* variables and attached policies; runs that move through
// Spacelift's states one at a time per stack; the push policy on every push,
// the trigger policy after every terminal run, and destructors that destroy
// an environment before its stack is deleted.
//
// What a run does is not simulated: the manager run reads the real
// environment files and the real template HCL at its commit, and an
// environment run reads the real infra/ HCL and deploys what it can emulate
// through the sandbox's data plane. Everything else is logged as
// "not emulated", never dropped silently.
package spacelift

import (
	"regexp"

	"preview-environments/previewctl/internal/sandbox/slapi"
	"strings"
	"time"
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
	Policies        []string          // IDs of attached policies
	PolicyTypes     map[string]string `json:"-"` // policy ID -> type (GIT_PUSH, TRIGGER, ...)
	TrackedCommit   string
	State           string
	Env             map[string]string // TF_VAR_* and other environment variables
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

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

// Slug derives a stack ID from its name the way Spacelift's slugs look:
// lowercase, runs of other characters folded into one dash.
func Slug(name string) string {
	return strings.Trim(slugRE.ReplaceAllString(strings.ToLower(name), "-"), "-")
}

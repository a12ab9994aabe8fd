// Package spacelift is the sandbox's stand-in for Spacelift: stacks with
// labels, TF_VAR_* variables and attached policies; runs that move through
// Spacelift's states one at a time per stack; the push policy on every push,
// the trigger policy after every terminal run, stack dependencies, and
// destructors that destroy an environment before its stack is deleted.
//
// What a run does is not simulated: every run is the real OpenTofu on the
// stack's project root at the run's commit (package tofurun), with the
// stack's state in the stand-in. This package is the engine: the
// scheduler, the policies, the dependencies' and destructors' run
// semantics, and the read API. What it keeps is package store's; what runs
// call (the provider API and the state backend) is package providerapi's,
// which the Engine embeds.
package spacelift

import (
	"preview-environments/previewctl/pkg/sandbox/spacelift/providerapi"
	"preview-environments/previewctl/pkg/sandbox/spacelift/store"
	"preview-environments/previewctl/pkg/sandbox/spacelift/tofurun"
)

// The model is package store's; these names keep it spelled spacelift.X
// for the engine's callers.
type (
	// Stack is one Spacelift stack.
	Stack = store.Stack
	// Run is one run of a stack.
	Run = store.Run
	// StateChange is one entry of a run's state history.
	StateChange = store.StateChange
	// Change is one resource change of a run (Spacelift's run.changes[]).
	Change = store.Change
	// LogLine is one line of a run's log.
	LogLine = store.LogLine
	// PolicyEvaluation records one policy decision.
	PolicyEvaluation = store.PolicyEvaluation
	// Dependency is one stack dependency with its references.
	Dependency = store.Dependency
	// Tofu is how runs execute OpenTofu (the binary and the sandbox's
	// providers).
	Tofu = tofurun.Tofu
)

// Run types and states, spelled as Spacelift spells them (policy inputs use
// these strings).
const (
	RunTracked = store.RunTracked
	RunDestroy = store.RunDestroy

	StateQueued       = store.StateQueued
	StatePreparing    = store.StatePreparing
	StateInitializing = store.StateInitializing
	StatePlanning     = store.StatePlanning
	StateApplying     = store.StateApplying
	StateDestroying   = store.StateDestroying
	StateFinished     = store.StateFinished
	StateFailed       = store.StateFailed
	StateCanceled     = store.StateCanceled
	StateDiscarded    = store.StateDiscarded
	StateStopped      = store.StateStopped
	StateSkipped      = store.StateSkipped
)

// Stack lifecycle states the sandbox shows.
const (
	StackNone     = store.StackNone
	StackActive   = store.StackActive
	StackDeleting = store.StackDeleting
)

// RoleService is the Role of the stack that serves an environment's URL.
const RoleService = store.RoleService

// Change actions as Spacelift reports them.
const (
	ActionAdded       = store.ActionAdded
	ActionChanged     = store.ActionChanged
	ActionDeleted     = store.ActionDeleted
	ActionReplaced    = store.ActionReplaced
	ActionReplacedCBD = store.ActionReplacedCBD
)

// ErrNotFound is returned for a stack or run that does not exist
// (store.ErrNotFound).
var ErrNotFound = store.ErrNotFound

// Terminal reports whether a run in this state will never change again; the
// trigger policy is evaluated exactly when a run reaches one of these.
func Terminal(state string) bool { return store.Terminal(state) }

// Slug derives a stack ID from its name the way Spacelift's slugs look:
// lowercase, runs of other characters folded into one dash.
func Slug(name string) string { return providerapi.Slug(name) }

package policies

import (
	_ "embed"
	"fmt"
)

// Policy names one of the policies this package holds.
type Policy string

const (
	// TriggerPolicy is trigger.rego, attached to the manager stack.
	TriggerPolicy Policy = "trigger"
	// PushPolicy is push.rego, attached to every environment stack.
	PushPolicy Policy = "push"
)

// File is the policy's file name inside policies/, the path Terraform uploads.
func (p Policy) File() string { return string(p) + ".rego" }

//go:embed trigger.rego
var triggerSource string

//go:embed push.rego
var pushSource string

// TriggerSource returns trigger.rego exactly as uploaded to Spacelift.
func TriggerSource() string { return triggerSource }

// PushSource returns push.rego exactly as uploaded to Spacelift.
func PushSource() string { return pushSource }

// Source returns the named policy's Rego source.
func Source(p Policy) (string, error) {
	switch p {
	case TriggerPolicy:
		return triggerSource, nil
	case PushPolicy:
		return pushSource, nil
	}
	return "", fmt.Errorf("policies: unknown policy %q (want %q or %q)", p, TriggerPolicy, PushPolicy)
}

// Package policies holds the Spacelift trigger and push policies (Rego v1),
// embeds them, and evaluates them with real OPA for the sandbox and tests.
package policies

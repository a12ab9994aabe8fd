// Package lifeline ties a sandbox provider's life to the tofu process that
// started it. OpenTofu stops its providers when it exits normally, but a
// tofu killed with SIGKILL (a sandbox killed mid-apply takes its tofu
// processes with it) cannot, and a provider left running would hold the
// run's token and answer nobody.
package lifeline

// Hold makes the process die when its parent does. Call it first in main.
func Hold() { hold() }

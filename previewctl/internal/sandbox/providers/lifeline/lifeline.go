// Package lifeline ties a sandbox provider's life to the tofu process that
// started it. OpenTofu stops its providers when it exits normally, but a
// tofu killed with SIGKILL (a sandbox killed mid-apply takes its tofu
// processes with it) cannot, and a provider left running would hold the
// run's token and answer nobody.
package lifeline

import "os"

// Hold makes the process die when its parent does. Call it first in main.
func Hold() { hold() }

// QuietSDK turns the plugin SDK's own logs off unless the person running
// tofu asked for logs (TF_LOG). Left at their default the framework writes
// a trace line for every attribute of every plan, which tofu then throws
// away: a third of a provider's CPU in a manager plan.
func QuietSDK() {
	if os.Getenv("TF_LOG") != "" {
		return
	}
	for _, k := range []string{"TF_LOG_SDK", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_SDK_PROTO"} {
		if os.Getenv(k) == "" {
			_ = os.Setenv(k, "OFF")
		}
	}
}

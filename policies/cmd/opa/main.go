// Command opa is OPA's own CLI with Spacelift's sanitized() builtin added,
// so `opa test`, `opa check --strict` and `opa fmt` run the policy files
// exactly as they are uploaded to Spacelift. It is a local tool only: the
// builtin it adds exists natively on Spacelift.
package main

import (
	"errors"
	"os"

	"github.com/open-policy-agent/opa/cmd"

	"preview-environments/policies"
)

func main() {
	policies.RegisterSanitized()
	if err := cmd.RootCommand.Execute(); err != nil {
		var e *cmd.ExitError
		if errors.As(err, &e) {
			os.Exit(e.Exit)
		}
		os.Exit(1)
	}
}

package e2e

import (
	"os"
	"strings"
	"testing"
)

// Var is one required setting: any one of Names being non-empty satisfies it
// (AWS credentials come as keys, a profile or a web identity token).
type Var struct{ Names []string }

// Env is one variable that must be set.
func Env(name string) Var { return Var{Names: []string{name}} }

// AnyOf is a requirement met by any one of names.
func AnyOf(names ...string) Var { return Var{Names: names} }

// AWSCredentials is met by static keys, a shared-config profile, or a web
// identity token (GitHub OIDC), the three ways the SDK finds credentials
// without an instance role.
var AWSCredentials = AnyOf("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE")

// Missing lists the requirements not met, each as NAME or NAME|NAME|...
func Missing(getenv func(string) string, vars ...Var) []string {
	var out []string
	for _, v := range vars {
		ok := false
		for _, n := range v.Names {
			if strings.TrimSpace(getenv(n)) != "" {
				ok = true
				break
			}
		}
		if !ok {
			out = append(out, strings.Join(v.Names, "|"))
		}
	}
	return out
}

// SkipUnlessEnv skips a cloud suite, with one line naming every missing
// variable, unless all of vars are set. It is the only reason a suite skips.
func SkipUnlessEnv(t testing.TB, suite string, vars ...Var) {
	t.Helper()
	if m := Missing(os.Getenv, vars...); len(m) > 0 {
		t.Skipf("%s: skipped, cloud credentials not set: missing %s", suite, strings.Join(m, ", "))
	}
}

// CleanupEnv, set to 1, turns each suite's TestCleanupLeftovers from a
// no-op into a sweep of the state files its interrupted runs left.
const CleanupEnv = "E2E_CLEANUP"

// CleanupRequested reports whether this run is a cleanup sweep.
func CleanupRequested() bool { return os.Getenv(CleanupEnv) == "1" }

package tofurun

import (
	"maps"
	"os"
	"slices"
	"strings"
)

// RunEnv is what a run's process environment is made of.
type RunEnv struct {
	// CLIConfig is the CLI config WriteCLIConfig wrote.
	CLIConfig string
	// Home is the run's own HOME.
	Home string
	// APIURL is the stand-in's provider API (SPACELIFT_API_KEY_ENDPOINT);
	// the stack's state is at APIURL/state/<StackID>.
	APIURL string
	// StackID is the stack the run is of.
	StackID string
	// Token is the run's API token, for the provider API and the state.
	Token string
	// Shared is added to every run (the sandbox's AWS endpoints and
	// credentials).
	Shared map[string]string
	// Stack are the stack's environment variables, inputs from its
	// dependencies' references included.
	Stack map[string]string
}

// Env is the environment of a run's tofu processes: nothing of the
// sandbox's own environment but PATH and the temp dir, so a developer's
// TF_* or AWS_* settings never leak into a run.
func Env(r RunEnv) []string {
	state := r.APIURL + "/state/" + r.StackID
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + r.Home,
		// Not the run's directory: providers listen on a unix socket in
		// TMPDIR, and a socket path has a 107-byte limit.
		"TMPDIR=" + os.TempDir(),
		"TF_CLI_CONFIG_FILE=" + r.CLIConfig,
		"CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"TF_HTTP_ADDRESS=" + state,
		"TF_HTTP_LOCK_ADDRESS=" + state,
		"TF_HTTP_UNLOCK_ADDRESS=" + state,
		"TF_HTTP_USERNAME=spacelift",
		"TF_HTTP_PASSWORD=" + r.Token,
		"SPACELIFT_API_KEY_ENDPOINT=" + r.APIURL,
		"SPACELIFT_API_TOKEN=" + r.Token,
		// What Spacelift tells every run about itself.
		"TF_VAR_spacelift_stack_id=" + r.StackID,
		"SPACELIFT_STACK_ID=" + r.StackID,
	}
	for _, k := range slices.Sorted(maps.Keys(r.Shared)) {
		env = append(env, k+"="+r.Shared[k])
	}
	for _, k := range slices.Sorted(maps.Keys(r.Stack)) {
		if validEnvName(k) {
			env = append(env, k+"="+r.Stack[k])
		}
	}
	return env
}

// validEnvName keeps names a process environment can carry; the API lets a
// variable be called anything.
func validEnvName(k string) bool {
	if k == "" || strings.ContainsAny(k, "=\x00") {
		return false
	}
	return true
}

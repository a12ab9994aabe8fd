package root_test

import (
	"strings"
	"testing"

	"preview-environments/previewctl/pkg/cmdtest"
)

// TestUsageErrors: everything the README calls a usage error exits 2 with
// one line on stderr that names what was passed, and nothing on stdout:
// unknown commands at every level, extra arguments, conflicting flags, PR
// numbers in any spelling but plain decimal, TTLs the file cannot hold.
func TestUsageErrors(t *testing.T) {
	render := func(extra ...string) []string {
		return append([]string{"render", "--service", "hello-service", "--owner", "acme", "--repo", "shop", "--pr", "42",
			"--code-version", "latest", "--infra-branch", "main"}, extra...)
	}
	id := func(pr string) []string { return []string{"id", "--owner", "acme", "--repo", "shop", "--pr", pr} }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"nosuch"}, `unknown command "nosuch" for "previewctl"`},
		{"mistyped command", []string{"rnder"}, `unknown command "rnder" for "previewctl" (did you mean "render"?)`},
		{"unknown sandbox command", []string{"sandbox", "nosuch"}, `unknown command "nosuch" for "previewctl sandbox"`},
		{"unknown sandbox pr command", []string{"sandbox", "pr", "nosuch"}, `unknown command "nosuch" for "previewctl sandbox pr"`},
		{"unknown completion shell", []string{"completion", "nosuch"}, `unknown command "nosuch" for "previewctl completion"`},
		{"unknown help topic", []string{"help", "nosuch"}, `unknown help topic "nosuch" for "previewctl"`},
		{"unknown flag", []string{"--nope"}, "unknown flag: --nope"},
		{"unknown flag of a subcommand", []string{"ls", "--nope"}, "unknown flag: --nope"},

		{"id with an argument", append(id("42"), "43"), `id takes no arguments, got ["43"]`},
		{"render with an argument", render("extra"), `render takes no arguments, got ["extra"]`},
		{"ls with an argument", []string{"ls", "x"}, `ls takes no arguments, got ["x"]`},
		{"gc with an argument", []string{"gc", "--local", "x"}, `gc takes no arguments, got ["x"]`},
		{"wait with an argument", []string{"wait", "--url", "http://127.0.0.1:1/", "--expect-version", "v", "x"}, `wait takes no arguments, got ["x"]`},
		{"demo with an argument", []string{"demo", "now"}, `demo takes no arguments, got ["now"]`},
		{"sandbox up with an argument", []string{"sandbox", "up", "x"}, `sandbox up takes no arguments, got ["x"]`},
		{"sandbox status with an argument", []string{"sandbox", "status", "x"}, `sandbox status takes no arguments, got ["x"]`},
		{"sandbox pr open with an argument", []string{"sandbox", "pr", "open", "x", "--branch", "b", "--set", "a=1"}, `sandbox pr open takes no arguments, got ["x"]`},

		{"gc local and manager repo", []string{"gc", "--local", "--manager-repo", "acme/manager"}, `--local and --manager-repo "acme/manager" exclude each other`},
		{"gc local and manager repo, dry run", []string{"gc", "--local", "--manager-repo", "acme/manager", "--dry-run"}, `--local and --manager-repo "acme/manager" exclude each other`},
		{"gc branch without manager repo", []string{"gc", "--local", "--branch", "main"}, `--branch "main" applies only with --manager-repo`},
		{"gc manager path without manager repo", []string{"gc", "--dry-run", "--manager-path", "m"}, `--manager-path "m" applies only with --manager-repo`},
		{"gc max attempts without manager repo", []string{"gc", "--local", "--max-attempts", "3"}, `--max-attempts "3" applies only with --manager-repo`},
		{"gc negative max attempts", []string{"gc", "--manager-repo", "acme/manager", "--max-attempts", "-1"}, "invalid max-attempts -1: want 1 to 100, or 0 for the default"},
		{"gc bad manager repo owner", []string{"gc", "--manager-repo", "acme_x/manager"}, `invalid manager-repo "acme_x/manager": invalid owner "acme_x"`},

		{"id octal pr", id("010"), `invalid argument "010" for "--pr" flag: must be a decimal integer without sign or leading zeros`},
		{"id hex pr", id("0x10"), `invalid argument "0x10" for "--pr" flag`},
		{"id binary pr", id("0b11"), `invalid argument "0b11" for "--pr" flag`},
		{"id 0o pr", id("0o7"), `invalid argument "0o7" for "--pr" flag`},
		{"id underscore pr", id("1_0"), `invalid argument "1_0" for "--pr" flag`},
		{"id signed pr", id("+5"), `invalid argument "+5" for "--pr" flag`},
		{"id negative pr", id("-5"), `invalid argument "-5" for "--pr" flag`},
		{"id pr past int32", id("2147483648"), `invalid argument "2147483648" for "--pr" flag: must be at most 2147483647`},
		{"render octal pr", render("--pr", "010"), `invalid argument "010" for "--pr" flag`},
		{"render hex pr", render("--pr", "0x10"), `invalid argument "0x10" for "--pr" flag`},
		{"render signed pr", render("--pr", "+5"), `invalid argument "+5" for "--pr" flag`},

		{"ttl below a second", render("--ttl", "1ns"), `invalid argument "1ns" for "--ttl" flag: must be a whole number of seconds`},
		{"ttl fraction of a second", render("--ttl", "1.5s"), `invalid argument "1.5s" for "--ttl" flag: must be a whole number of seconds`},
		{"ttl past the cap", render("--ttl", "2161h"), `invalid argument "2161h" for "--ttl" flag: must be at most 2160h (90 days)`},
		{"ttl past a Duration", render("--ttl", "9999999999h"), `invalid argument "9999999999h" for "--ttl" flag: must be at most 2160h (90 days)`},
		{"ttl negative", render("--ttl", "-1h"), `invalid argument "-1h" for "--ttl" flag: must be positive`},
		{"ttl zero", render("--ttl", "0s"), `invalid argument "0s" for "--ttl" flag: must be positive`},
		{"ttl not a duration", render("--ttl", "soon"), `invalid argument "soon" for "--ttl" flag: must be a duration such as 72h or 30m`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cmdtest.Run(t, t.TempDir(), tc.args...)
			if r.Code != 2 || r.Stdout != "" {
				t.Fatalf("exit %d, stdout %q; want 2 and nothing (stderr %q)", r.Code, r.Stdout, r.Stderr)
			}
			if strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, tc.want) {
				t.Fatalf("stderr %q, want one line containing %q", r.Stderr, tc.want)
			}
		})
	}
}

// TestHelpStillWorks: the usage-error plumbing leaves help alone.
func TestHelpStillWorks(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Available Commands:"},
		{[]string{"help"}, "Available Commands:"},
		{[]string{"help", "id"}, "previewctl id --owner OWNER --repo REPO --pr N"},
		{[]string{"help", "sandbox", "pr"}, "previewctl sandbox pr [command]"},
		{[]string{"sandbox"}, "previewctl sandbox [command]"},
		{[]string{"sandbox", "pr"}, "previewctl sandbox pr [command]"},
		{[]string{"render", "--help"}, "--ttl duration"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := cmdtest.Run(t, t.TempDir(), tc.args...)
			if r.Code != 0 || !strings.Contains(r.Stdout, tc.want) {
				t.Fatalf("exit %d, stdout %q; want 0 and %q (stderr %q)", r.Code, r.Stdout, tc.want, r.Stderr)
			}
		})
	}
}

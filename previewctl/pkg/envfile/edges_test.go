package envfile

import (
	"strings"
	"testing"
	"time"

	"preview-environments/update-file-action/updatefile"
)

// TestGitHubNames: owner and repository names as GitHub forms them, each
// refusal exact and naming the value as given. The same names go through
// the update-file-action's validation, which writes the files: the two must
// agree on every one, or an environment could be rendered that can never be
// written (or the reverse).
func TestGitHubNames(t *testing.T) {
	for _, tc := range []struct {
		field, value, want string // want "" = accepted
	}{
		{"owner", "a", ""},
		{"owner", "Octo-Org", ""},
		{"owner", "0x", ""},
		{"owner", "octocat_acme", ""},
		{"owner", "mona-cat_octo", ""},
		{"owner", "2abvd19d_admin", ""}, // an EMU setup user, data residency's random shortcode
		{"owner", "The-Octocat_SHORTC0D", ""},
		{"owner", strings.Repeat("a", 39), ""},
		{"owner", strings.Repeat("a", 34) + "_acme", ""},
		{"owner", strings.Repeat("a", 35) + "_acme", `invalid owner "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_acme": longer than 39 characters`},
		{"owner", "acme-", `invalid owner "acme-": must not begin or end with a hyphen`},
		{"owner", "ac--me", `invalid owner "ac--me": must not contain consecutive hyphens`},
		{"owner", "octocat-_acme", `invalid owner "octocat-_acme": must not begin or end with a hyphen`},
		{"owner", "octocat_", `invalid owner "octocat_": a managed user's enterprise shortcode after '_' must be 3 to 8 ASCII letters and digits`},
		{"owner", "octocat_ab", `invalid owner "octocat_ab": a managed user's enterprise shortcode after '_' must be 3 to 8 ASCII letters and digits`},
		{"owner", "octocat_abcdefghi", `invalid owner "octocat_abcdefghi": a managed user's enterprise shortcode after '_' must be 3 to 8 ASCII letters and digits`},
		{"owner", "octocat_ac-me", `invalid owner "octocat_ac-me": a managed user's enterprise shortcode after '_' must be 3 to 8 ASCII letters and digits`},
		{"owner", "a_b_c12", `invalid owner "a_b_c12": may contain at most one '_' (before a managed user's enterprise shortcode)`},
		{"owner", "_acme", `invalid owner "_acme": must not begin with '_'`},
		{"owner", "ac.me", `invalid owner "ac.me": may contain only ASCII letters, digits and hyphens`},
		{"repo", "shop", ""},
		{"repo", ".github", ""},
		{"repo", "a.git.b", ""},
		{"repo", "hello_service.v2", ""},
		{"repo", "shop.git", `invalid repo "shop.git": must not end in ".git" (GitHub drops that suffix from repository names)`},
		{"repo", "shop.GIT", `invalid repo "shop.GIT": must not end in ".git" (GitHub drops that suffix from repository names)`},
		{"repo", ".git", `invalid repo ".git": must not end in ".git" (GitHub drops that suffix from repository names)`},
		{"repo", "shop.wiki", `invalid repo "shop.wiki": must not end in ".wiki" (GitHub reserves it for wikis)`},
	} {
		t.Run(tc.field+"="+tc.value, func(t *testing.T) {
			var err, action error
			req := updatefile.Request{Owner: "acme", Repo: "shop", Path: "f.tf", Message: "m"}
			if tc.field == "owner" {
				err, req.Owner = ValidateOwner(tc.value), tc.value
			} else {
				err, req.Repo = ValidateRepo(tc.value), tc.value
			}
			action = req.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Fatalf("error\n got: %v\nwant: %s", err, tc.want)
			case (err == nil) != (action == nil):
				t.Fatalf("envfile says %v, the update-file-action says %v", err, action)
			}
		})
	}
}

// TestParsePR: only the decimal form names a PR; every other spelling that
// Go's parsers accept would name another PR's environment.
func TestParsePR(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"1", 1, ""},
		{"42", 42, ""},
		{"2147483647", 2147483647, ""},
		{"0", 0, `invalid pr "0": must be a positive pull request number`},
		{"010", 0, `invalid pr "010": must be a decimal integer without sign or leading zeros`},
		{"0x10", 0, `invalid pr "0x10": must be a decimal integer without sign or leading zeros`},
		{"0b11", 0, `invalid pr "0b11": must be a decimal integer without sign or leading zeros`},
		{"0o7", 0, `invalid pr "0o7": must be a decimal integer without sign or leading zeros`},
		{"1_0", 0, `invalid pr "1_0": must be a decimal integer without sign or leading zeros`},
		{"+5", 0, `invalid pr "+5": must be a decimal integer without sign or leading zeros`},
		{"-5", 0, `invalid pr "-5": must be a decimal integer without sign or leading zeros`},
		{" 5", 0, `invalid pr " 5": must be a decimal integer without sign or leading zeros`},
		{"5\n", 0, `invalid pr "5\n": must be a decimal integer without sign or leading zeros`},
		{"٥", 0, `invalid pr "\u0665": must be a decimal integer without sign or leading zeros`},
		{"", 0, `invalid pr "": must be a decimal integer without sign or leading zeros`},
		{"2147483648", 0, `invalid pr "2147483648": must be at most 2147483647`},
		{"99999999999999999999", 0, `invalid pr "99999999999999999999": must be at most 2147483647`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			n, err := ParsePR(tc.in)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if n != tc.n || got != tc.want {
				t.Fatalf("ParsePR(%q) = %d, %q; want %d, %q", tc.in, n, got, tc.n, tc.want)
			}
		})
	}
}

// TestTTL: a TTL the file cannot hold, or past the cap, is refused as the
// TTL, not as the expires-at it would produce.
func TestTTL(t *testing.T) {
	for _, tc := range []struct {
		ttl  time.Duration
		want string
	}{
		{time.Second, ""},
		{DefaultTTL, ""},
		{MaxTTL, ""},
		{0, `invalid ttl "0s": must be positive`},
		{-time.Hour, `invalid ttl "-1h0m0s": must be positive`},
		{time.Nanosecond, `invalid ttl "1ns": must be a whole number of seconds`},
		{1500 * time.Millisecond, `invalid ttl "1.5s": must be a whole number of seconds`},
		{MaxTTL + time.Second, `invalid ttl "2160h0m1s": must be at most 2160h (90 days)`},
	} {
		t.Run(tc.ttl.String(), func(t *testing.T) {
			e, err := New("hello-service", "acme", "shop", 42, "latest", "main", t0, tc.ttl)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Fatalf("error %q, want %q", got, tc.want)
			}
			if err == nil && !e.ExpiresAt.Equal(t0.Add(tc.ttl)) {
				t.Fatalf("expires at %s, want %s", e.ExpiresAt, t0.Add(tc.ttl))
			}
		})
	}
}

package id_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"preview-environments/previewctl/pkg/cmdtest"
)

func TestID(t *testing.T) {
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:])[:8] + "\n" }
	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		stdout    string
		stderrHas string
	}{
		{"contract", []string{"--owner", "acme", "--repo", "shop", "--pr", "42"}, 0, "191559f5\n", ""},
		{"case-insensitive", []string{"--owner", "Acme", "--repo", "SHOP", "--pr", "42"}, 0, sum("acme/shop#42"), ""},
		{"digits first", []string{"--owner", "0x", "--repo", "a.b", "--pr", "1"}, 0, sum("0x/a.b#1"), ""},
		{"bad owner", []string{"--owner", "-acme", "--repo", "shop", "--pr", "42"}, 2, "", `invalid owner "-acme"`},
		{"bad repo", []string{"--owner", "acme", "--repo", "..", "--pr", "42"}, 2, "", `invalid repo ".."`},
		{"zero pr", []string{"--owner", "acme", "--repo", "shop", "--pr", "0"}, 2, "", `invalid argument "0" for "--pr" flag: must be a positive pull request number`},
		{"managed user owner", []string{"--owner", "octocat_acme", "--repo", "shop", "--pr", "42"}, 0, sum("octocat_acme/shop#42"), ""},
		{"owner with two underscores", []string{"--owner", "a_b_c12", "--repo", "shop", "--pr", "42"}, 2, "", `invalid owner "a_b_c12": may contain at most one '_'`},
		{"repo ending in .git", []string{"--owner", "acme", "--repo", "shop.GIT", "--pr", "42"}, 2, "", `invalid repo "shop.GIT": must not end in ".git"`},
		{"extra argument", []string{"--owner", "acme", "--repo", "shop", "--pr", "42", "43"}, 2, "", `id takes no arguments, got ["43"]`},
		{"missing pr", []string{"--owner", "acme", "--repo", "shop"}, 2, "", "--pr is required"},
		{"non-numeric pr", []string{"--owner", "acme", "--repo", "shop", "--pr", "4x"}, 2, "", `invalid argument "4x" for "--pr"`},
		{"unknown flag", []string{"--nope"}, 2, "", "unknown flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cmdtest.Run(t, "", append([]string{"id"}, tc.args...)...)
			if r.Code != tc.code || r.Stdout != tc.stdout {
				t.Fatalf("code %d stdout %q stderr %q; want code %d stdout %q", r.Code, r.Stdout, r.Stderr, tc.code, tc.stdout)
			}
			if tc.code != 0 && (strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, tc.stderrHas)) {
				t.Errorf("stderr %q, want one line with %q", r.Stderr, tc.stderrHas)
			}
		})
	}
}

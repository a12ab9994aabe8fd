package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// These tests run the opa binary that `make tools` builds into bin/ (on PATH
// under make), i.e. the CLI the Makefile and CI use on the real files.
func opaBinary(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("opa")
	if err != nil {
		t.Fatalf("opa with sanitized() not found on PATH: run make tools (%v)", err)
	}
	return path
}

func TestCLISanitizedMatchesDocumentedSamples(t *testing.T) {
	opa := opaBinary(t)
	cases := []struct{ in, want string }{
		{"exampledb", "59832d41"},
		{"mysql", "eae35047"},
		{"5.7", "fc40d152"},
		{"db.t3.micro", "4f8189cd"},
		{"default.mysql5.7", "bead1390"},
	}
	for _, c := range cases {
		out, err := exec.CommandContext(t.Context(), opa, "eval", "--format", "raw", `sanitized("`+c.in+`")`).CombinedOutput()
		if err != nil {
			t.Fatalf("opa eval sanitized(%q): %v\n%s", c.in, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("opa eval sanitized(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCLIRunsPolicyFilesUnchanged(t *testing.T) {
	opa := opaBinary(t)
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	rego, err := filepath.Glob(filepath.Join(dir, "*.rego"))
	if err != nil || len(rego) < 4 {
		t.Fatalf("want policies and tests in %s, found %v (%v)", dir, rego, err)
	}
	cases := []struct {
		name string
		args []string
	}{
		{"check strict", append([]string{"check", "--strict"}, rego...)},
		{"fmt clean", append([]string{"fmt", "--list", "--fail"}, rego...)},
		{"test", []string{"test", dir}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := exec.CommandContext(t.Context(), opa, c.args...).CombinedOutput()
			if err != nil {
				t.Fatalf("opa %s: %v\n%s", strings.Join(c.args, " "), err, out)
			}
		})
	}
}

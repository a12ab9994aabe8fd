// Package testbin finds the tools and source folders the service's tests
// need. Tests fail (never skip) when a tool is missing: a skip would hide a
// broken `make tools`.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ServiceDir is the service module's folder, found upwards from the test's
// working directory (go test runs tests in their package's folder).
func ServiceDir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			strings.HasPrefix(string(b), "module preview-environments/service\n") {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("testbin: no preview-environments/service go.mod above %s", wd)
		}
	}
}

// RIE returns the aws-lambda-rie path: from PATH (make puts bin/ first),
// else the repository's bin/.
func RIE(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	p := filepath.Join(ServiceDir(t), "..", "bin", "aws-lambda-rie")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	t.Fatal("aws-lambda-rie not found in PATH or bin/: run make tools")
	return ""
}

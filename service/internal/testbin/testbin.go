// Package testbin finds the tools and source folders the service's tests
// need. Tests fail (never skip) when a tool is missing: a skip would hide a
// broken `make tools`.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// ServiceDir is the service module's folder (found from this file's path,
// which tests are always compiled with).
func ServiceDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testbin: cannot locate source file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
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

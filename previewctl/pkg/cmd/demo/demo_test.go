package demo_test

import (
	"strings"
	"testing"

	"preview-environments/previewctl/pkg/cmdtest"
)

// TestDemoInputRefused: bad input exits 2 with one line naming the flag,
// before any sandbox starts (nothing on stdout).
func TestDemoInputRefused(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"addr not loopback", []string{"demo", "--addr", "0.0.0.0:8080"}, `--addr "0.0.0.0:8080"`},
		{"addr without port", []string{"demo", "--addr", "127.0.0.1"}, `--addr "127.0.0.1"`},
		{"zero step timeout", []string{"demo", "--step-timeout", "0s"}, "--step-timeout 0s"},
		{"step timeout not a duration", []string{"demo", "--step-timeout", "soon"}, `"soon"`},
		{"argument", []string{"demo", "now"}, "demo takes no arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cmdtest.Run(t, "", tc.args...)
			if r.Code != 2 || r.Stdout != "" {
				t.Fatalf("exit %d, stdout %q; want 2 and nothing (stderr %q)", r.Code, r.Stdout, r.Stderr)
			}
			if strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, tc.want) {
				t.Fatalf("stderr %q, want one line containing %q", r.Stderr, tc.want)
			}
		})
	}
}

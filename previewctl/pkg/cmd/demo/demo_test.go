package demo_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"preview-environments/previewctl/pkg/cmd/root"
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
			var out, errb bytes.Buffer
			code := root.Execute(context.Background(), tc.args, strings.NewReader(""), &out, &errb)
			if code != 2 || out.Len() != 0 {
				t.Fatalf("exit %d, stdout %q; want 2 and nothing (stderr %q)", code, out.String(), errb.String())
			}
			if strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("stderr %q, want one line containing %q", errb.String(), tc.want)
			}
		})
	}
}

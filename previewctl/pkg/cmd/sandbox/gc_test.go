package sandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"preview-environments/previewctl/pkg/sandbox/platform"
)

// TestSandboxGC: `sandbox gc` talks to the real endpoint (platform.MountGC)
// in front of a fake pass, and prints as `previewctl gc` does: the pass's
// lines on stderr, the deleted (with --dry-run, the doomed) files on
// stdout, a non-zero exit when the pass failed or the guard stopped it.
func TestSandboxGC(t *testing.T) {
	doomed := platform.GCEnv{ID: "o1234567", File: "manager/hello-service/environments/ondemand-qa-x-o1234567.tf", Reason: "expired"}
	var got platform.GCRequest
	pass := platform.GCReport{}
	mux := http.NewServeMux()
	platform.MountGC(mux.Handle, func(_ context.Context, req platform.GCRequest) (platform.GCReport, error) {
		got = req
		return pass, nil
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	for _, tc := range []struct {
		name     string
		args     []string
		pass     platform.GCReport
		code     int
		stdout   string
		stderr   string
		wantSent platform.GCRequest
	}{
		{"a pass that deleted", nil,
			platform.GCReport{Deleted: []platform.GCEnv{doomed}, Log: []string{"gc: delete o1234567 (qa-x): expired"}},
			0, doomed.File + "\n", "gc: delete o1234567 (qa-x): expired\n", platform.GCRequest{WarnWithin: "24h0m0s"}},
		{"a dry run prints the doomed", []string{"--dry-run", "--warn-within", "2h", "--now", "2026-12-05T00:00:00Z"},
			platform.GCReport{DryRun: true, WouldDelete: []platform.GCEnv{doomed}, Log: []string{"gc: dry run: would delete 1 of 2 environments"}},
			0, doomed.File + "\n", "would delete 1 of 2", platform.GCRequest{DryRun: true, WarnWithin: "2h0m0s", Now: "2026-12-05T00:00:00Z"}},
		{"the guard stops it: exit 1, its lines shown", []string{"--warn-within", "0s"},
			platform.GCReport{Guard: true, Error: "mass-deletion guard: would delete 3 of 4", Log: []string{"gc: delete a", "gc: delete b"}},
			1, "", "mass-deletion guard: would delete 3 of 4", platform.GCRequest{WarnWithin: "0s"}},
		{"--force is sent", []string{"--force"},
			platform.GCReport{Log: []string{"gc: nothing to delete (0 environments)"}},
			0, "", "nothing to delete", platform.GCRequest{Force: true, WarnWithin: "24h0m0s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pass, got = tc.pass, platform.GCRequest{}
			code, out, errOut := run(t, append([]string{"sandbox", "gc", "--addr", addr}, tc.args...)...)
			if code != tc.code || out != tc.stdout || !strings.Contains(errOut, tc.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, stderr with %q", code, out, errOut, tc.code, tc.stdout, tc.stderr)
			}
			if got != tc.wantSent {
				t.Fatalf("sent %+v, want %+v", got, tc.wantSent)
			}
		})
	}

	// --json prints the report as the API sent it.
	pass = platform.GCReport{Total: 2, Deleted: []platform.GCEnv{doomed}, Log: []string{"x"}}
	code, out, _ := run(t, "sandbox", "gc", "--addr", addr, "--json")
	var rep platform.GCReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Total != 2 || len(rep.Deleted) != 1 {
		t.Fatalf("--json: exit %d, %q", code, out)
	}

	// Input is refused before anything is sent.
	for _, args := range [][]string{
		{"--warn-within", "-1h"},
		{"--now", "tomorrow"},
		{"--addr", "10.0.0.1:8080"},
		{"extra"},
	} {
		got = platform.GCRequest{Now: "untouched"}
		code, out, errOut := run(t, append([]string{"sandbox", "gc", "--addr", addr}, args...)...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || got.Now != "untouched" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q, sent %v; want exit 2 with one line and nothing sent", args, code, out, errOut, got.Now != "untouched")
		}
	}
}

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStateRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	now := time.Now().UTC().Truncate(time.Second)
	states := []State{
		{RunID: "b2", Suite: "infra", Backend: "cloud", Created: now, TerraformDir: "/tmp/x", TerraformVars: map[string]string{"environment": "1a2b3c4d"}},
		{RunID: "a1", Suite: "lifecycle", Backend: "cloud", Created: now.Add(-time.Minute), Repository: "acme/scratch", Branch: "e2e/a1", PRNumber: 7},
	}
	for _, s := range states {
		if _, err := SaveState(dir, s); err != nil {
			t.Fatal(err)
		}
	}
	// Overwrite: the PR number is recorded after the branch.
	states[1].PRNumber = 8
	if _, err := SaveState(dir, states[1]); err != nil {
		t.Fatal(err)
	}
	got, errs := LoadStates(dir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(got) != 2 || got[0].RunID != "a1" || got[0].PRNumber != 8 || got[1].TerraformVars["environment"] != "1a2b3c4d" {
		t.Fatalf("LoadStates = %+v, want a1 (PR 8) then b2", got)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
	if err := RemoveState(dir, states[0]); err != nil {
		t.Fatal(err)
	}
	if err := RemoveState(dir, states[0]); err != nil {
		t.Errorf("removing an already removed state: %v", err)
	}
	got, _ = LoadStates(dir)
	if len(got) != 1 || got[0].RunID != "a1" {
		t.Fatalf("after remove: %+v", got)
	}
}

func TestStateRejectsUnsafeNames(t *testing.T) {
	dir := t.TempDir()
	tests := []State{
		{RunID: "../../etc", Suite: "infra"},
		{RunID: "ok", Suite: "in/fra"},
		{RunID: "", Suite: "infra"},
		{RunID: "ok", Suite: ""},
		{RunID: strings.Repeat("a", 33), Suite: "infra"},
	}
	for _, s := range tests {
		if _, err := SaveState(dir, s); err == nil {
			t.Errorf("SaveState(%q, %q) succeeded, want an error", s.RunID, s.Suite)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("rejected states wrote %d files", len(entries))
	}
}

func TestLoadStatesSkipsBadFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := SaveState(dir, State{RunID: "good", Suite: "lifecycle"}); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"lifecycle-broken.json": "{not json",
		"infra-renamed.json":    `{"run_id":"other","suite":"infra"}`,
		"notes.txt":             "ignored",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, errs := LoadStates(dir)
	if len(got) != 1 || got[0].RunID != "good" {
		t.Errorf("LoadStates = %+v, want only the good one", got)
	}
	if len(errs) != 2 {
		t.Fatalf("errors = %v, want 2 (broken JSON, mismatched name)", errs)
	}
	joined := errs[0].Error() + errs[1].Error()
	for _, name := range []string{"lifecycle-broken.json", "infra-renamed.json"} {
		if !strings.Contains(joined, name) {
			t.Errorf("errors %q do not name %s", joined, name)
		}
	}
	if got, errs := LoadStates(filepath.Join(dir, "absent")); got != nil || errs != nil {
		t.Errorf("absent dir: %v %v, want nothing", got, errs)
	}
}

func TestStateDir(t *testing.T) {
	d, err := StateDir()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(d) != ".e2e-state" {
		t.Errorf("StateDir = %s, want test/.e2e-state", d)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(d), "go.mod")); err != nil {
		t.Errorf("StateDir %s is not next to the test module's go.mod", d)
	}
	custom := t.TempDir()
	t.Setenv(StateDirEnv, custom)
	if d, err := StateDir(); err != nil || d != custom {
		t.Errorf("StateDir with %s = %s, %v", StateDirEnv, d, err)
	}
}

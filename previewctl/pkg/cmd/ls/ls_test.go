package ls_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/cmd/ls"
	"preview-environments/previewctl/pkg/cmdtest"
	"preview-environments/previewctl/pkg/envfile"
)

func TestLs(t *testing.T) {
	mdir := t.TempDir()
	now := time.Now().UTC().Truncate(time.Second)
	a, _ := envfile.New("hello-service", "acme", "shop", 42, "0123456789abcdef0123456789abcdef01234567", "feature/x", now.Add(-26*time.Hour), envfile.DefaultTTL)
	b, _ := envfile.New("other-svc", "Acme", "Web", 7, "latest", "main", now.Add(-10*24*time.Hour), envfile.DefaultTTL)
	for _, e := range []envfile.Environment{a, b} {
		d := envfile.EnvironmentsDir(mdir, e.Service)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := envfile.WriteAtomic(d, e); err != nil {
			t.Fatal(err)
		}
	}

	r := cmdtest.Run(t, "", "ls", "--manager-dir", mdir, "--now", now.Format(time.RFC3339))
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("code %d stderr %q", r.Code, r.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("table:\n%s", r.Stdout)
	}
	for i, want := range [][]string{
		{a.ID, "hello-service", "acme/shop#42", "0123456", "feature/x", "1d2h", "in 5d22h"},
		{b.ID, "other-svc", "Acme/Web#7", "latest", "main", "10d0h", "expired 3d0h ago"},
	} {
		fields := strings.Fields(lines[i+1])
		got := append(fields[:6:6], strings.Join(fields[6:], " "))
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("row %d = %q, want %q", i, got, want)
		}
	}

	r = cmdtest.Run(t, "", "ls", "--manager-dir", mdir, "--json", "--service", "other-svc")
	var got []envfile.Environment
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || r.Code != 0 {
		t.Fatalf("json: %v code %d %q", err, r.Code, r.Stdout)
	}
	if len(got) != 1 || !got[0].Equal(b) {
		t.Errorf("json = %+v", got)
	}

	// An unreadable file is named with its line; the rest is still listed; exit 1.
	bad := filepath.Join(envfile.EnvironmentsDir(mdir, "hello-service"), "x-y-1-00000000.tf")
	if err := os.WriteFile(bad, []byte("module \"env_00000000\" {\n  source = var.x\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = cmdtest.Run(t, "", "ls", "--manager-dir", mdir, "--json")
	if r.Code != 1 || !strings.Contains(r.Stderr, bad+":2: source must be a literal value") {
		t.Errorf("code %d stderr %q", r.Code, r.Stderr)
	}
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || len(got) != 2 {
		t.Errorf("partial listing: %v %d", err, len(got))
	}

	// An empty manager directory lists nothing, as JSON [] not null.
	r = cmdtest.Run(t, "", "ls", "--manager-dir", t.TempDir(), "--json")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "[]" {
		t.Errorf("empty: code %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
}

func TestHuman(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{0, "0s"}, {59 * time.Second, "59s"}, {61 * time.Second, "1m1s"}, {90 * time.Minute, "1h30m"}, {49 * time.Hour, "2d1h"}, {-2 * time.Hour, "2h0m"}} {
		if got := ls.Human(tc.d); got != tc.want {
			t.Errorf("Human(%v) = %s, want %s", tc.d, got, tc.want)
		}
	}
}

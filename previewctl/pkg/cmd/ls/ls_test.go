package ls_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/cmdtest"
	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/managerdir"
)

// realManager is this repository's manager directory.
var realManager = filepath.Join("..", "..", "..", "..", "manager")

// noTFVar keeps the caller's TF_VAR_data_stack out of a test.
func noTFVar(t *testing.T) {
	t.Helper()
	t.Setenv("TF_VAR_data_stack", "")
	os.Unsetenv("TF_VAR_data_stack")
}

// manager copies the real manager directory's .tf files (no environment
// files) to a temporary one, and gives other-svc a one-stack template.
func manager(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	if err := managerdir.CopyConfig(realManager, dst); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dst, "other-svc", "template", "main.tf"), `
variable "service" {}
variable "environment_id" {}

resource "spacelift_stack" "this" {
  name         = "${var.service}-${var.environment_id}"
  project_root = "other"
}
`)
	return dst
}

func write(t *testing.T, path, src string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeEnv(t *testing.T, mdir string, e envfile.Environment) string {
	t.Helper()
	d := envfile.EnvironmentsDir(mdir, e.Service)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := envfile.WriteAtomic(d, e)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// columns splits a table line at the header's column starts.
func columns(t *testing.T, header, line string, names ...string) []string {
	t.Helper()
	var starts []int
	for _, n := range names {
		i := strings.Index(header, n)
		if i < 0 {
			t.Fatalf("header %q lacks %q", header, n)
		}
		starts = append(starts, i)
	}
	out := make([]string, len(starts))
	for i, s := range starts {
		end := len(line)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		out[i] = strings.TrimSpace(line[min(s, len(line)):min(end, len(line))])
	}
	return out
}

var headers = []string{"ID", "SERVICE", "PR", "CODE", "INFRA BRANCH", "AGE", "EXPIRES", "STACKS"}

func TestLs(t *testing.T) {
	noTFVar(t)
	mdir := manager(t)
	now := time.Now().UTC().Truncate(time.Second)
	a, _ := envfile.New("hello-service", "acme", "shop", 42, "0123456789abcdef0123456789abcdef01234567", "feature/x", now.Add(-26*time.Hour), envfile.DefaultTTL)
	b, _ := envfile.New("other-svc", "Acme", "Web", 7, "latest", "main", now.Add(-10*24*time.Hour), envfile.DefaultTTL)
	for _, e := range []envfile.Environment{a, b} {
		writeEnv(t, mdir, e)
	}

	r := cmdtest.Run(t, "", "ls", "--manager-dir", mdir, "--now", now.Format(time.RFC3339))
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("code %d stderr %q", r.Code, r.Stderr)
	}
	lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != strings.Join(headers, " ") {
		t.Fatalf("table:\n%s", r.Stdout)
	}
	for i, want := range [][]string{
		{a.ID, "hello-service", "acme/shop#42", "0123456", "feature/x", "1d2h", "in 5d22h", "data, service←data"},
		{b.ID, "other-svc", "Acme/Web#7", "latest", "main", "10d0h", "expired 3d0h ago", "service"},
	} {
		got := columns(t, lines[0], lines[i+1], headers...)
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

// TestLsStacks: the STACKS column and the JSON stacks of the real
// template, with the data stack on and off.
func TestLsStacks(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)
	e, _ := envfile.New("hello-service", "acme", "shop", 42, "latest", "main", t0, envfile.DefaultTTL)
	const fields = `
    "kind": "pr",
    "service": "hello-service",
    "owner": "acme",
    "repo": "shop",
    "pr": 42,
    "id": "191559f5",
    "code_version": "latest",
    "infra_branch": "main",
    "created_at": "2026-11-28T05:00:00Z",
    "expires_at": "2026-12-05T05:00:00Z",
`
	twoJSON := "[\n  {" + fields + `    "stacks": [
      {
        "id": "hello-service-191559f5-data",
        "name": "hello-service-191559f5-data",
        "role": "data",
        "project_root": "infra/data",
        "depends_on": []
      },
      {
        "id": "hello-service-191559f5",
        "name": "hello-service-191559f5",
        "role": "service",
        "project_root": "infra",
        "depends_on": [
          "hello-service-191559f5-data"
        ]
      }
    ]
  }
]
`
	oneJSON := "[\n  {" + fields + `    "stacks": [
      {
        "id": "hello-service-191559f5",
        "name": "hello-service-191559f5",
        "role": "service",
        "project_root": "infra",
        "depends_on": []
      }
    ]
  }
]
`
	for _, tc := range []struct {
		name   string
		args   []string
		tfVar  string // TF_VAR_data_stack; "" unset
		cell   string
		asJSON string
	}{
		{name: "data_stack's default: a data stack the service depends on", cell: "data, service←data", asJSON: twoJSON},
		{name: "--var data_stack=false", args: []string{"--var", "data_stack=false"}, cell: "service", asJSON: oneJSON},
		{name: "TF_VAR_data_stack=false, as on the manager stack", tfVar: "false", cell: "service", asJSON: oneJSON},
		{name: "--var wins over TF_VAR_", args: []string{"--var", "data_stack=true"}, tfVar: "false", cell: "data, service←data", asJSON: twoJSON},
		{name: "the last --var wins", args: []string{"--var", "data_stack=true", "--var", "data_stack=false"}, cell: "service", asJSON: oneJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noTFVar(t)
			if tc.tfVar != "" {
				t.Setenv("TF_VAR_data_stack", tc.tfVar)
			}
			mdir := manager(t)
			writeEnv(t, mdir, e)
			args := append([]string{"ls", "--manager-dir", mdir, "--now", "2026-11-29T05:00:00Z"}, tc.args...)
			r := cmdtest.Run(t, "", args...)
			lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
			if r.Code != 0 || r.Stderr != "" || len(lines) != 2 {
				t.Fatalf("code %d stderr %q\n%s", r.Code, r.Stderr, r.Stdout)
			}
			want := []string{e.ID, "hello-service", "acme/shop#42", "latest", "main", "1d0h", "in 6d0h", tc.cell}
			if got := columns(t, lines[0], lines[1], headers...); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("row = %q, want %q", got, want)
			}
			r = cmdtest.Run(t, "", append(args, "--json")...)
			if r.Code != 0 || r.Stdout != tc.asJSON {
				t.Errorf("json: code %d stderr %q\n%s\nwant\n%s", r.Code, r.Stderr, r.Stdout, tc.asJSON)
			}
		})
	}
}

// TestLsStacksRefused: what cannot be evaluated fails the listing before
// anything is printed.
func TestLsStacksRefused(t *testing.T) {
	e, _ := envfile.New("hello-service", "acme", "shop", 42, "latest", "main", time.Now(), envfile.DefaultTTL)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, mdir string)
		args  []string
		code  int
		want  []string // in stderr; "@" for the template's main.tf:<line of the data source>
	}{
		{name: "a name that cannot be evaluated offline", code: 1,
			setup: func(t *testing.T, mdir string) {
				p := filepath.Join(mdir, "hello-service", "template", "main.tf")
				src, _ := os.ReadFile(p)
				old := `name         = "${var.service}-${var.environment_id}"`
				if !strings.Contains(string(src), old) {
					t.Fatalf("template lacks %q", old)
				}
				write(t, p, strings.Replace(string(src), old, `name         = "${var.service}-${data.spacelift_current_stack.this.id}"`, 1))
			},
			want: []string{"previewctl: stacks of environment " + e.ID + " (" + envfile.FileName(e) + "): @",
				`cannot evaluate spacelift_stack.this's name = "${var.service}-${data.spacelift_current_stack.this.id}" offline`}},
		{name: "no template", code: 1,
			setup: func(t *testing.T, mdir string) { os.RemoveAll(filepath.Join(mdir, "hello-service", "template")) },
			want:  []string{"previewctl: stacks of hello-service: no template at " + filepath.Join("<mdir>", "hello-service", "template")}},
		{name: "a data_stack that is not a bool", code: 1, args: []string{"--var", "data_stack=maybe"},
			want: []string{"var.data_stack of the manager (", "the value from --var data_stack does not fit type bool"}},
		{name: "a --var without a value", code: 2, args: []string{"--var", "data_stack"},
			want: []string{`previewctl: invalid var "data_stack": want name=value`}},
		{name: "a --var the manager does not declare", code: 2, args: []string{"--var", "data_stacks=false"},
			want: []string{"previewctl: --var data_stacks: the manager declares no such variable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noTFVar(t)
			mdir := manager(t)
			writeEnv(t, mdir, e)
			if tc.setup != nil {
				tc.setup(t, mdir)
			}
			for _, asJSON := range []bool{false, true} {
				args := append([]string{"ls", "--manager-dir", mdir}, tc.args...)
				if asJSON {
					args = append(args, "--json")
				}
				r := cmdtest.Run(t, "", args...)
				if r.Code != tc.code || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 {
					t.Fatalf("json=%v: code %d (want %d) stdout %q stderr %q", asJSON, r.Code, tc.code, r.Stdout, r.Stderr)
				}
				for _, w := range tc.want {
					if strings.HasSuffix(w, "@") {
						src, _ := os.ReadFile(filepath.Join(mdir, "hello-service", "template", "main.tf"))
						line := 1 + strings.Count(string(src[:strings.Index(string(src), "data.spacelift_current_stack")]), "\n")
						w = strings.TrimSuffix(w, "@") + filepath.Join(mdir, "hello-service", "template", "main.tf") + ":" + strconv.Itoa(line) + ": "
					}
					w = strings.ReplaceAll(w, "<mdir>", mdir)
					if !strings.Contains(r.Stderr, w) {
						t.Errorf("json=%v: stderr %q lacks %q", asJSON, r.Stderr, w)
					}
				}
			}
		})
	}
}

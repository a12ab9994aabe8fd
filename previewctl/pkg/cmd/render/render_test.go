package render_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/cmdtest"
	"preview-environments/previewctl/pkg/envfile"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

// repoWithTemplate is a temp repository root whose manager/hello-service
// has the fixture template (the variables DEVELOPING.md fixes).
func repoWithTemplate(t *testing.T) string {
	t.Helper()
	root := cmdtest.TempRoot(t)
	src, err := os.ReadFile(filepath.Join("..", "..", "envfile", "testdata", "manager", "hello-service", "template", "variables.tf"))
	if err != nil {
		t.Fatal(err)
	}
	tdir := filepath.Join(root, "manager", "hello-service", "template")
	for _, d := range []string{tdir, filepath.Join(root, "manager", "hello-service", "environments")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tdir, "variables.tf"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func args(extra ...string) []string {
	base := map[string]string{"--service": "hello-service", "--owner": "acme", "--repo": "shop", "--pr": "42",
		"--code-version": sha, "--infra-branch": "main", "--now": "2026-11-28T05:00:00Z"}
	for i := 0; i+1 < len(extra); i += 2 {
		base[extra[i]] = extra[i+1]
	}
	out := []string{"render"}
	for _, k := range []string{"--service", "--owner", "--repo", "--pr", "--code-version", "--infra-branch", "--now"} {
		if v, ok := base[k]; ok && v != "<unset>" {
			out = append(out, k, v)
		}
	}
	return out
}

func TestRenderStdout(t *testing.T) {
	root := repoWithTemplate(t)
	r := cmdtest.Run(t, root, args()...)
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("code %d stderr %q", r.Code, r.Stderr)
	}
	e, err := envfile.Parse("acme-shop-42-191559f5.tf", []byte(r.Stdout))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)
	want := envfile.Environment{Service: "hello-service", Owner: "acme", Repo: "shop", PR: 42, ID: "191559f5", CodeVersion: sha,
		InfraBranch: "main", CreatedAt: t0, ExpiresAt: t0.Add(envfile.DefaultTTL)}
	if !e.Equal(want) {
		t.Errorf("got %+v", e)
	}
	// Outside any repository the file is still printed, with a note.
	r = cmdtest.Run(t, t.TempDir(), args()...)
	if r.Code != 0 || !strings.Contains(r.Stdout, `module "env_191559f5"`) || !strings.Contains(r.Stderr, "not checked") {
		t.Errorf("outside a repo: code %d stderr %q", r.Code, r.Stderr)
	}
}

// TestRenderRefusals: exit 2, nothing on stdout, one line naming the field.
func TestRenderRefusals(t *testing.T) {
	root := repoWithTemplate(t)
	for _, tc := range []struct {
		flag, value, want string
	}{
		{"--infra-branch", `main"; evil = "${file("/etc/passwd")}`, `previewctl: invalid infra-branch "main\"; evil = \"${file(\"/etc/passwd\")}": must not contain "${" (template interpolation)`},
		{"--infra-branch", "x${var.shared}", `previewctl: invalid infra-branch "x${var.shared}": must not contain "${" (template interpolation)`},
		{"--infra-branch", "%{if}", `previewctl: invalid infra-branch "%{if}": must not contain "%{" (template directive)`},
		{"--infra-branch", `a\b`, `previewctl: invalid infra-branch "a\\b": must not contain '\\'`},
		{"--infra-branch", "a\nb", `previewctl: invalid infra-branch "a\nb": must not contain control characters`},
		{"--infra-branch", "-x", `previewctl: invalid infra-branch "-x": must not begin with '-'`},
		{"--infra-branch", "a/../b", `previewctl: invalid infra-branch "a/../b": must not contain ".."`},
		{"--owner", "ac\"me", `previewctl: invalid owner "ac\"me": may contain only ASCII letters, digits and hyphens`},
		{"--owner", strings.Repeat("o", 300), `previewctl: invalid owner "oooooooooooooooooooooooooooooooooooooooo"...(300 bytes): longer than 39 characters`},
		{"--repo", "..", `previewctl: invalid repo "..": must not be "." or ".."`},
		{"--repo", "shöp", `previewctl: invalid repo "sh\u00f6p": may contain only ASCII letters, digits, '.', '_' and '-'`},
		{"--service", "../x", `previewctl: invalid service "../x": must be a DNS label: lowercase letters, digits and inner hyphens`},
		{"--service", "<unset>", `previewctl: invalid service "": --service is required`},
		{"--code-version", "main", `previewctl: invalid code-version "main": must be a 40-character lowercase hex commit sha or "latest"`},
		{"--pr", "-1", `previewctl: invalid argument "-1" for "--pr" flag: must be a decimal integer without sign or leading zeros`},
		{"--pr", "1e3", `previewctl: invalid argument "1e3" for "--pr" flag: must be a decimal integer without sign or leading zeros`},
		{"--pr", "0", `previewctl: invalid argument "0" for "--pr" flag: must be a positive pull request number`},
	} {
		t.Run(tc.flag+"="+tc.value, func(t *testing.T) {
			for _, extra := range [][]string{nil, {"--write"}} {
				r := cmdtest.Run(t, root, append(args(tc.flag, tc.value), extra...)...)
				if r.Code != 2 || r.Stdout != "" || r.Stderr != tc.want+"\n" {
					t.Errorf("%v: code %d stdout %q\nstderr %q\n  want %q", extra, r.Code, r.Stdout, r.Stderr, tc.want+"\n")
				}
			}
			left, _ := os.ReadDir(filepath.Join(root, "manager", "hello-service", "environments"))
			if len(left) != 0 {
				t.Errorf("files written: %v", left)
			}
		})
	}
}

func TestRenderWriteRenewsAndCollides(t *testing.T) {
	root := repoWithTemplate(t)
	dir := filepath.Join(root, "manager", "hello-service", "environments")
	r := cmdtest.Run(t, root, append(args(), "--write", "--ttl", "24h")...)
	if r.Code != 0 || r.Stdout != "" {
		t.Fatalf("code %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	// A later push renews the TTL and keeps the creation time.
	r = cmdtest.Run(t, root, append(args("--now", "2026-11-29T00:00:00Z", "--code-version", "latest"), "--write", "--ttl", "24h")...)
	if r.Code != 0 {
		t.Fatalf("re-render: %q", r.Stderr)
	}
	envs, errs := envfile.ReadDir(dir)
	if len(errs) > 0 || len(envs) != 1 {
		t.Fatalf("%v %v", envs, errs)
	}
	e := envs[0]
	if e.CodeVersion != "latest" || !e.CreatedAt.Equal(time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)) || !e.ExpiresAt.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("after renewal: %+v", e)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("leftover files: %v", entries)
	}

	// A real collision: two PRs of one repository whose IDs share 8 hex chars.
	a, b := collidingPRs(t)
	r = cmdtest.Run(t, root, append(args("--pr", strconv.Itoa(a)), "--write")...)
	if r.Code != 0 {
		t.Fatalf("first of the pair: %q", r.Stderr)
	}
	r = cmdtest.Run(t, root, args("--pr", strconv.Itoa(b))...)
	if r.Code != 1 || r.Stdout != "" || !strings.Contains(r.Stderr, "environment ID collision") {
		t.Errorf("collision: code %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

// collidingPRs finds two PR numbers of acme/shop with the same ID (a
// birthday search over 32 bits: ~80k hashes).
func collidingPRs(t *testing.T) (int, int) {
	seen := map[string]int{}
	for n := 1; n < 2_000_000; n++ {
		id := envfile.ID("acme", "shop", n)
		if m, ok := seen[id]; ok {
			return m, n
		}
		seen[id] = n
	}
	t.Fatal("no collision found")
	return 0, 0
}

func TestRenderTemplateMismatch(t *testing.T) {
	root := repoWithTemplate(t)
	vars := filepath.Join(root, "manager", "hello-service", "template", "variables.tf")
	src, _ := os.ReadFile(vars)
	if err := os.WriteFile(vars, []byte(strings.Replace(string(src), `variable "infra_branch"`, `variable "infra_repository_branch"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := cmdtest.Run(t, root, args()...)
	if r.Code != 1 || r.Stdout != "" || !strings.Contains(r.Stderr, "argument infra_branch is not a variable of the template") {
		t.Errorf("code %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	// An explicit manager dir without the service's template is refused
	// input too (TestRenderUnknownService has the implicit one).
	r = cmdtest.Run(t, root, append(args("--service", "other"), "--manager-dir", filepath.Join(root, "manager"))...)
	if r.Code != 2 || !strings.Contains(r.Stderr, `invalid service "other": no template at `) {
		t.Errorf("missing template: code %d stderr %q", r.Code, r.Stderr)
	}
}

func TestRenderEvent(t *testing.T) {
	root := repoWithTemplate(t)
	ev := filepath.Join(t.TempDir(), "event.json")
	payload := `{"action":"synchronize","number":7,"pull_request":{"number":7,
	  "head":{"sha":"` + sha + `","ref":"feature/x","repo":{"full_name":"someone/shop"}},
	  "base":{"ref":"main","repo":{"name":"Shop","full_name":"Acme/Shop","default_branch":"main","owner":{"login":"Acme"}}}},
	  "repository":{"name":"Shop","owner":{"login":"Acme"}}}`
	if err := os.WriteFile(ev, []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "github_output")
	r := cmdtest.Run(t, root, "render", "--service", "hello-service", "--event", ev, "--infra-branch", "main", "--now", "2026-11-28T05:00:00Z", "--github-output", out)
	if r.Code != 0 {
		t.Fatalf("code %d stderr %q", r.Code, r.Stderr)
	}
	id := envfile.ID("acme", "shop", 7)
	e, err := envfile.Parse("acme-shop-7-"+id+".tf", []byte(r.Stdout))
	if err != nil {
		t.Fatal(err)
	}
	if e.Owner != "Acme" || e.Repo != "Shop" || e.PR != 7 || e.CodeVersion != sha || e.InfraBranch != "main" {
		t.Errorf("from event: %+v", e)
	}
	got, _ := os.ReadFile(out)
	want := "id=" + id + "\nmodule=env_" + id + "\nfile=acme-shop-7-" + id + ".tf\npath=manager/hello-service/environments/acme-shop-7-" + id + ".tf\ncode_version=" + sha + "\ninfra_branch=main\n"
	if string(got) != want {
		t.Errorf("github output:\n%s\nwant:\n%s", got, want)
	}
	for _, bad := range []string{"{", `{"action":"opened"}`} {
		if err := os.WriteFile(ev, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		r := cmdtest.Run(t, root, "render", "--service", "hello-service", "--event", ev)
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(r.Stderr, "previewctl: invalid event") {
			t.Errorf("%s: code %d stderr %q", bad, r.Code, r.Stderr)
		}
	}
}

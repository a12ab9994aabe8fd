package envfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

const goodFile = `module "env_191559f5" {
  source         = "../template"
  environment_id = "191559f5"
  service        = "hello-service"
  pr_owner       = "acme"
  pr_repository  = "shop"
  pr_number      = 42
  code_version   = "latest"
  infra_branch   = "main"
  created_at     = "2026-11-28T05:00:00Z"
  expires_at     = "2026-12-05T05:00:00Z"
  shared         = var.shared
}
`

// TestParseHandWritten parses files written by hand, not by Render: the
// accepted forms and the refusals, each with its file:line.
func TestParseHandWritten(t *testing.T) {
	const name = "acme-shop-42-191559f5.tf"
	sub := func(old, new string) string { return strings.Replace(goodFile, old, new, 1) }
	for _, tc := range []struct {
		name, file, src, want string
	}{
		{"ok", name, goodFile, ""},
		{"ok other layout and comments", name, "// hand\nmodule \"env_191559f5\" {\n shared = var.shared\n expires_at = \"2026-12-05T05:00:00Z\"\n created_at = \"2026-11-28T05:00:00Z\"\n infra_branch = \"main\"\n code_version = \"latest\"\n pr_number = 42\n pr_repository = \"shop\"\n pr_owner = \"acme\"\n service = \"hello-service\"\n environment_id = \"191559f5\"\n source = \"../template\"\n}\n", ""},
		{"wrapped interpolation", name, sub(`"main"`, `"${var.x}"`), name + ":9: infra_branch must be a literal value, not an expression"},
		{"interpolation", name, sub(`"main"`, `"x-${var.x}"`), name + ":9: infra_branch must be a literal string; it holds an interpolation or directive"},
		{"directive", name, sub(`"main"`, `"%{if true}x%{endif}"`), name + ":9: infra_branch must be a literal string; it holds an interpolation or directive"},
		{"function call", name, sub(`"main"`, `file("/etc/passwd")`), name + ":9: infra_branch must be a literal value, not an expression"},
		{"bare traversal", name, sub(`"main"`, `var.branch`), name + ":9: infra_branch must be a literal value, not an expression"},
		{"arithmetic", name, sub(`= 42`, `= 40 + 2`), name + ":7: pr_number must be a literal value, not an expression"},
		{"shared other", name, sub(`var.shared`, `var.secret`), name + ":12: shared must be exactly var.shared"},
		{"shared deeper", name, sub(`var.shared`, `var.shared.x`), name + ":12: shared must be exactly var.shared"},
		{"extra argument", name, sub("  shared", "  providers      = \"x\"\n  shared"), name + ":12: unexpected argument \"providers\""},
		{"missing argument", name, sub("  infra_branch   = \"main\"\n", ""), name + ":1: missing argument \"infra_branch\""},
		{"two blocks", name, goodFile + goodFile, name + ":1: want exactly one module block, found 2 blocks"},
		{"resource", name, `resource "x" "y" {}`, name + ":1: want a module block with one label, found \"resource\" with 2 labels"},
		{"top attribute", name, "x = 1\n" + goodFile, name + ":1: unexpected top-level argument \"x\""},
		{"nested block", name, sub("  shared", "  lifecycle {}\n  shared"), name + ":12: unexpected nested block \"lifecycle\""},
		{"pr string", name, sub(`= 42`, `= "42"`), name + ":7: pr_number must be a number"},
		{"pr fraction", name, sub(`= 42`, `= 4.2`), name + ":7: pr_number must be a positive whole number"},
		{"source", name, sub(`"../template"`, `"git::https://evil"`), name + ":2: source must be \"../template\""},
		{"bad time", name, sub(`"2026-11-28T05:00:00Z"`, `"yesterday"`), name + ":10: created_at must be an RFC 3339 UTC time, got \"yesterday\""},
		{"offset time", name, sub(`"2026-11-28T05:00:00Z"`, `"2026-11-28T05:00:00+01:00"`), name + ":10: created_at must be an RFC 3339 UTC time, got \"2026-11-28T05:00:00+01:00\""},
		{"module label", name, sub(`env_191559f5`, `env_deadbeef`), name + ":1: module name \"env_deadbeef\" does not match environment_id (want \"env_191559f5\")"},
		{"wrong id", "acme-shop-42-deadbeef.tf", strings.ReplaceAll(goodFile, "191559f5", "deadbeef"), "acme-shop-42-deadbeef.tf:1: invalid id \"deadbeef\": does not match acme/shop#42 (want 191559f5)"},
		{"bad branch value", name, sub(`"main"`, `"a..b"`), name + ":1: invalid infra-branch \"a..b\": must not contain \"..\""},
		{"escaped interpolation is refused by validation", name, sub(`"main"`, `"$${x}"`), name + ":1: invalid infra-branch \"${x}\": must not contain \"${\" (template interpolation)"},
		{"file name", "other-name-1-191559f5.tf", goodFile, "other-name-1-191559f5.tf:1: file name does not match its contents (want acme-shop-42-191559f5.tf)"},
		{"syntax", name, "module \"env_191559f5\" {\n  source = \n}", name + ":2: Invalid expression: Expected the start of an expression, but found an invalid expression token."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.file, []byte(tc.src))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				want := Environment{Service: "hello-service", Owner: "acme", Repo: "shop", PR: 42, ID: "191559f5", CodeVersion: "latest", InfraBranch: "main",
					CreatedAt: time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 12, 5, 5, 0, 0, 0, time.UTC)}
				if !e.Equal(want) {
					t.Errorf("got %+v", e)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %+v", e)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("not a ParseError: %T", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestDirWriteReadRemove(t *testing.T) {
	dir := t.TempDir()
	a := valid()
	b, _ := New("hello-service", "Other", "Repo", 3, "latest", "main", t0, time.Hour)
	for _, e := range []Environment{a, b} {
		path, err := WriteAtomic(dir, e)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(path) != FileName(e) {
			t.Errorf("wrote %s", path)
		}
	}
	// Files that are not environments are ignored; a broken environment file is reported.
	if err := os.WriteFile(filepath.Join(dir, "variables.tf"), []byte(`variable "shared" {}`), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "x-y-1-00000000.tf")
	if err := os.WriteFile(broken, []byte("module {"), 0o644); err != nil {
		t.Fatal(err)
	}
	envs, errs := ReadDir(dir)
	if len(envs) != 2 || !envs[0].Equal(a) || !envs[1].Equal(b) {
		t.Errorf("ReadDir envs = %+v", envs)
	}
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), broken+":1:") {
		t.Errorf("ReadDir errs = %v", errs)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".previewctl-*"))
	if len(leftovers) != 0 {
		t.Errorf("temp files left: %v", leftovers)
	}
	if err := Remove(dir, a); err != nil {
		t.Fatal(err)
	}
	if err := Remove(dir, a); err != nil {
		t.Errorf("second remove: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName(a))); !os.IsNotExist(err) {
		t.Errorf("file still there: %v", err)
	}
	if _, errs := ReadDir(filepath.Join(dir, "missing")); len(errs) != 1 {
		t.Errorf("missing dir: %v", errs)
	}
	// A refused environment writes nothing.
	bad := a
	bad.InfraBranch = "a..b"
	if _, err := WriteAtomic(dir, bad); err == nil {
		t.Error("WriteAtomic accepted an invalid environment")
	}
	if _, err := os.Stat(filepath.Join(dir, FileName(bad))); !os.IsNotExist(err) {
		t.Error("invalid environment was written")
	}
}

func TestCheckCollision(t *testing.T) {
	a := valid()
	same := a
	same.Owner = "ACME" // same PR, GitHub is case-insensitive
	fake := valid()
	fake.Owner, fake.Repo, fake.PR = "evil", "x", 1 // forged: same ID, other PR
	other, _ := New("hello-service", "acme", "shop", 43, "latest", "main", t0, time.Hour)
	for _, tc := range []struct {
		name     string
		existing []Environment
		collide  bool
	}{
		{"empty", nil, false},
		{"same PR", []Environment{same}, false},
		{"other PR other ID", []Environment{other}, false},
		{"other PR same ID", []Environment{other, fake}, true},
	} {
		err := CheckCollision(a, tc.existing)
		if got := errors.Is(err, ErrCollision); got != tc.collide {
			t.Errorf("%s: collision = %v (%v)", tc.name, got, err)
		}
	}
}

func TestCheckAgainstTemplate(t *testing.T) {
	fixture := filepath.Join("testdata", "manager", "hello-service", "template")
	dirs := []string{fixture}
	// The real template, once the manager part has committed it.
	if real := filepath.Join("..", "..", "..", "manager", "hello-service", "template"); dirExists(real) {
		dirs = append(dirs, real)
	}
	for _, dir := range dirs {
		vars, err := ReadTemplateVariables(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckAgainstTemplate(valid(), vars); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}
	vars, err := ReadTemplateVariables(fixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(map[string]Variable)
		want   string
	}{
		{"undeclared argument", func(v map[string]Variable) { delete(v, "infra_branch") }, "argument infra_branch is not a variable of the template"},
		{"required unset", func(v map[string]Variable) { v["region"] = Variable{Name: "region", Required: true} }, "template variable region is required but previewctl does not set it"},
		{"type mismatch", func(v map[string]Variable) {
			x := v["code_version"]
			x.Type = vars["shared"].Type
			v["code_version"] = x
		}, "argument code_version does not fit type object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]Variable{}
			for k, v := range vars {
				m[k] = v
			}
			tc.mutate(m)
			err := CheckAgainstTemplate(valid(), m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := ReadTemplateVariables(t.TempDir()); err == nil {
		t.Error("empty template dir accepted")
	}
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// assertAllLiteral parses rendered HCL and fails unless every attribute in
// the module block is a literal (or the fixed var.shared traversal).
func assertAllLiteral(t *testing.T, src []byte) {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL(src, "fuzz.tf")
	if diags.HasErrors() {
		t.Fatalf("rendered HCL does not parse: %s\n%s", diags.Error(), src)
	}
	for _, blk := range f.Body.(*hclsyntax.Body).Blocks {
		for name, a := range blk.Body.Attributes {
			switch x := a.Expr.(type) {
			case *hclsyntax.LiteralValueExpr:
			case *hclsyntax.ScopeTraversalExpr:
				if name != "shared" {
					t.Fatalf("%s is a traversal", name)
				}
			case *hclsyntax.TemplateExpr:
				if !x.IsStringLiteral() {
					t.Fatalf("%s holds live interpolation:\n%s", name, src)
				}
			default:
				t.Fatalf("%s is a %T:\n%s", name, a.Expr, src)
			}
		}
	}
}

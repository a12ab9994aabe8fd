package managerdir

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"preview-environments/previewctl/pkg/envfile"
)

// realManager is this repository's manager directory.
var realManager = filepath.Join("..", "..", "..", "manager")

var t0 = time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)

func prEnv(t *testing.T) envfile.Environment {
	t.Helper()
	e, err := envfile.New("hello-service", "acme", "shop", 42, "latest", "main", t0, envfile.DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func onDemandEnv(t *testing.T) envfile.Environment {
	t.Helper()
	e, err := envfile.NewOnDemand("hello-service", "qa-checkout", "latest", "main", t0, envfile.DefaultOnDemandTTL)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// twoStacks is what the real template makes with a data stack, oneStack
// without.
func twoStacks(id string) []Stack {
	base := "hello-service-" + id
	return []Stack{
		{ID: base + "-data", Name: base + "-data", Role: "data", ProjectRoot: "infra/data", DependsOn: []string{}},
		{ID: base, Name: base, Role: "service", ProjectRoot: "infra", DependsOn: []string{base + "-data"}},
	}
}

func oneStack(id string) []Stack {
	base := "hello-service-" + id
	return []Stack{{ID: base, Name: base, Role: "service", ProjectRoot: "infra", DependsOn: []string{}}}
}

// copyManager copies the real manager directory's .tf files (no
// environment files) to a temporary directory.
func copyManager(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	if err := CopyConfig(realManager, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// edit replaces old (which must be there) with new in dir/rel.
func edit(t *testing.T, dir, rel, old, new string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	src, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), old) {
		t.Fatalf("%s does not hold %q", rel, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(src), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendTo(t *testing.T, dir, rel, text string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, rel), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// dropDataStack removes the template's data stack: every resource named
// data or data_*.
func dropDataStack(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, "hello-service", "template", "main.tf")
	src, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclwrite.ParseConfig(src, p, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	removed := 0
	for _, b := range f.Body().Blocks() {
		if l := b.Labels(); b.Type() == "resource" && len(l) == 2 && (l[1] == "data" || strings.HasPrefix(l[1], "data_")) {
			f.Body().RemoveBlock(b)
			removed++
		}
	}
	if removed < 2 {
		t.Fatalf("removed %d data resources", removed)
	}
	if err := os.WriteFile(p, f.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// lineOf is the 1-based line of the first line of dir/rel holding s.
func lineOf(t *testing.T, dir, rel, s string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, s) {
			return filepath.Join(dir, rel) + ":" + strconv.Itoa(i+1)
		}
	}
	t.Fatalf("%s does not hold %q", rel, s)
	return ""
}

func env(kv ...string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == k {
				return kv[i+1], true
			}
		}
		return "", false
	}
}

func TestTemplateStacks(t *testing.T) {
	pr, od := prEnv(t), onDemandEnv(t)
	hostile := pr
	hostile.ID = `${file("/etc/passwd")}%{ for x in ["a"] }${x}%{ endfor }`
	hostile.Owner = `${var.service}") } resource "x" "y" {`

	for _, tc := range []struct {
		name   string
		edit   func(t *testing.T, dir string) // on a copy of the real manager; nil reads the real one
		opts   Options
		env    envfile.Environment
		want   []Stack
		errs   []string // substrings of the error, "@name.tf:text" for that line's file:line
		loadEr []string // ... of Template's error
	}{
		{name: "real template: data_stack's default (true) gives a data stack the service depends on", env: pr, want: twoStacks(pr.ID)},
		{name: "real template, on-demand environment", env: od, want: twoStacks(od.ID)},
		{name: "real template, --var data_stack=false: one stack", env: pr, opts: Options{Vars: map[string]string{"data_stack": "false"}}, want: oneStack(pr.ID)},
		{name: "real template, TF_VAR_data_stack=false as on the manager stack", env: pr, opts: Options{LookupEnv: env("TF_VAR_data_stack", "false")}, want: oneStack(pr.ID)},
		{name: "--var wins over TF_VAR_", env: pr, opts: Options{Vars: map[string]string{"data_stack": "true"}, LookupEnv: env("TF_VAR_data_stack", "false")}, want: twoStacks(pr.ID)},
		{name: "a TF_VAR_ that is not a bool names where it came from", env: pr, opts: Options{LookupEnv: env("TF_VAR_data_stack", "maybe")},
			errs: []string{"@hello-service/template/main.tf:count = local.data_stack", "cannot evaluate spacelift_stack.data's count = local.data_stack ? 1 : 0 offline: var.data_stack of the manager (", "the value from TF_VAR_data_stack does not fit type bool"}},
		{name: "the manager's call sets data_stack = false itself", env: pr,
			edit: func(t *testing.T, d string) {
				edit(t, d, "main.tf", "data_stack         = var.data_stack", "data_stack         = false")
			},
			want: oneStack(pr.ID)},
		{name: "the manager's call leaves data_stack out: the service's default", env: pr, opts: Options{Vars: map[string]string{"data_stack": "true"}},
			edit: func(t *testing.T, d string) {
				edit(t, d, "main.tf", "data_stack         = var.data_stack\n", "")
				edit(t, d, "hello-service/variables.tf", "default     = true", "default     = false")
			},
			want: oneStack(pr.ID)},
		{name: "a tfvars file in the manager wins over TF_VAR_", env: pr, opts: Options{LookupEnv: env("TF_VAR_data_stack", "true")},
			edit: func(t *testing.T, d string) {
				if err := os.WriteFile(filepath.Join(d, "terraform.tfvars"), []byte("data_stack = false\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: oneStack(pr.ID)},
		{name: "no default and nothing sets it: refused, not guessed", env: pr,
			edit: func(t *testing.T, d string) { edit(t, d, "variables.tf", "  default     = true\n}", "}") },
			errs: []string{"cannot evaluate spacelift_stack.data's count", "var.data_stack of the manager (", "has no default, and neither --var data_stack=... nor TF_VAR_data_stack sets it here"}},
		{name: "no manager call of the service: refused", env: pr,
			edit: func(t *testing.T, d string) {
				edit(t, d, "main.tf", `source = "./hello-service"`, `source = "./other"`)
			},
			errs: []string{"cannot evaluate spacelift_stack.data's count", `has source "./hello-service"`}},
		{name: "template without a data stack needs no manager files", env: pr,
			edit: func(t *testing.T, d string) {
				dropDataStack(t, d)
				for _, g := range []string{"*.tf", "hello-service/*.tf", "hello-service/environments/*.tf"} {
					ps, _ := filepath.Glob(filepath.Join(d, g))
					for _, p := range ps {
						if err := os.Remove(p); err != nil {
							t.Fatal(err)
						}
					}
				}
			},
			want: oneStack(pr.ID)},
		{name: "several count instances, named by count.index", env: pr,
			edit: func(t *testing.T, d string) {
				appendTo(t, d, "hello-service/template/main.tf", `
resource "spacelift_stack" "worker" {
  count        = 2
  name         = format("%s-%s-w%d", var.service, var.environment_id, count.index)
  project_root = "infra/worker"
}
resource "spacelift_stack_dependency" "worker" {
  count               = 2
  stack_id            = spacelift_stack.worker[count.index].id
  depends_on_stack_id = spacelift_stack.this.id
}
`)
			},
			want: append(twoStacks(pr.ID),
				Stack{ID: "hello-service-191559f5-w0", Name: "hello-service-191559f5-w0", Role: "worker[0]", ProjectRoot: "infra/worker", DependsOn: []string{"hello-service-191559f5"}},
				Stack{ID: "hello-service-191559f5-w1", Name: "hello-service-191559f5-w1", Role: "worker[1]", ProjectRoot: "infra/worker", DependsOn: []string{"hello-service-191559f5"}})},
		{name: "hostile environment values stay values", env: hostile,
			edit: func(t *testing.T, d string) {
				edit(t, d, "hello-service/template/main.tf", `name         = "${var.service}-${var.environment_id}"`, `name         = "${var.pr_owner}-${var.environment_id}"`)
			},
			want: []Stack{
				{ID: "hello-service-file-etc-passwd-for-x-in-a-x-endfor-data", Name: "hello-service-" + hostile.ID + "-data", Role: "data", ProjectRoot: "infra/data", DependsOn: []string{}},
				{ID: "var-service-resource-x-y-file-etc-passwd-for-x-in-a-x-endfor", Name: hostile.Owner + "-" + hostile.ID, Role: "service", ProjectRoot: "infra",
					DependsOn: []string{"hello-service-file-etc-passwd-for-x-in-a-x-endfor-data"}},
			}},
		{name: "a name from a data source cannot be evaluated offline", env: pr,
			edit: func(t *testing.T, d string) {
				edit(t, d, "hello-service/template/main.tf", `name         = "${var.service}-${var.environment_id}"`, `name         = "${var.service}-${data.spacelift_current_stack.this.id}"`)
			},
			errs: []string{`@hello-service/template/main.tf:${data.spacelift_current_stack`,
				`cannot evaluate spacelift_stack.this's name = "${var.service}-${data.spacelift_current_stack.this.id}" offline: data.spacelift_current_stack.this.id (`,
				"is known only when OpenTofu runs"}},
		{name: "a name may not read files", env: pr,
			edit: func(t *testing.T, d string) {
				edit(t, d, "hello-service/template/main.tf", `name         = "${var.service}-${var.environment_id}"`, `name         = file("/etc/hostname")`)
			},
			errs: []string{`cannot evaluate spacelift_stack.this's name = file("/etc/hostname") offline: Call to unknown function: There is no function named "file"`}},
		{name: "a count from a resource's attribute, through var.shared", env: pr,
			edit: func(t *testing.T, d string) {
				edit(t, d, "hello-service/template/main.tf", "data_stack = var.shared.data_stack", `data_stack = var.shared.push_policy_id != ""`)
			},
			errs: []string{"@hello-service/template/main.tf:count = local.data_stack", "spacelift_policy.push.id (", "hello-service/main.tf:"}},
		{name: "locals in a cycle", env: pr,
			edit: func(t *testing.T, d string) {
				edit(t, d, "hello-service/template/main.tf", "data_stack = var.shared.data_stack", "data_stack = local.again\n  again = local.data_stack")
			},
			errs: []string{"refers to itself"}},
		{name: "stacks depending on each other", env: pr,
			edit: func(t *testing.T, d string) {
				appendTo(t, d, "hello-service/template/main.tf", `
resource "spacelift_stack_dependency" "back" {
  count               = local.data_stack ? 1 : 0
  stack_id            = spacelift_stack.data[0].id
  depends_on_stack_id = spacelift_stack.this.id
}
`)
			},
			errs: []string{"spacelift_stack_dependency resources make a cycle of stacks: hello-service-191559f5, hello-service-191559f5-data"}},
		{name: "two stacks with one ID", env: pr,
			edit: func(t *testing.T, d string) {
				edit(t, d, "hello-service/template/main.tf", `name         = "${var.service}-${var.environment_id}-data"`, `name         = "${var.service} ${var.environment_id}"`)
			},
			errs: []string{`spacelift_stack.data's name "hello-service 191559f5" gives the ID hello-service-191559f5, as the service stack's "hello-service-191559f5" does`}},
		{name: "for_each on a stack is refused when the template is read", env: pr,
			edit: func(t *testing.T, d string) {
				edit(t, d, "hello-service/template/main.tf", "count = local.data_stack ? 1 : 0\n\n  name", "for_each = toset([\"a\"])\n\n  name")
			},
			loadEr: []string{"for_each on spacelift_stack.data is not evaluated offline"}},
		{name: "a template without stacks (only variables): none", env: pr,
			edit: func(t *testing.T, d string) {
				if err := os.Remove(filepath.Join(d, "hello-service", "template", "main.tf")); err != nil {
					t.Fatal(err)
				}
			},
			want: []Stack{}},
		{name: "no template", env: pr,
			edit: func(t *testing.T, d string) {
				if err := os.RemoveAll(filepath.Join(d, "hello-service", "template")); err != nil {
					t.Fatal(err)
				}
			},
			loadEr: []string{"no template at "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := realManager
			if tc.edit != nil {
				dir = copyManager(t)
				tc.edit(t, dir)
			}
			abs, _ := filepath.Abs(dir)
			expand := func(subs []string) []string {
				out := make([]string, len(subs))
				for i, s := range subs {
					if rest, ok := strings.CutPrefix(s, "@"); ok {
						rel, text, _ := strings.Cut(rest, ":")
						s = lineOf(t, abs, rel, text) + ": "
					}
					out[i] = s
				}
				return out
			}
			m, err := OpenManager(dir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			tmpl, err := m.Template("hello-service")
			if tc.loadEr != nil {
				t.Logf("Template error %v", err)
				if err == nil {
					t.Fatal("Template: no error")
				}
				for _, s := range expand(tc.loadEr) {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("Template error %q lacks %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Stacks(tc.env)
			t.Logf("stacks %+v, error %v", got, err)
			if tc.errs != nil {
				if err == nil {
					t.Fatalf("no error; stacks %+v", got)
				}
				for _, s := range expand(tc.errs) {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("stacks\n %+v\nwant\n %+v", got, tc.want)
			}
			// The template is read once: a second environment reuses it.
			if again, err := m.Template("hello-service"); err != nil || again != tmpl {
				t.Errorf("Template again: %p %v, want %p", again, err, tmpl)
			}
		})
	}
}

func TestOpenManagerUndeclaredVar(t *testing.T) {
	_, err := OpenManager(realManager, Options{Vars: map[string]string{"data_stacks": "false"}})
	if !errors.Is(err, ErrUndeclaredVar) || !strings.Contains(err.Error(), "--var data_stacks") {
		t.Errorf("err = %v, want ErrUndeclaredVar naming the flag", err)
	}
	// An empty (or missing) manager directory is an empty manager.
	if _, err := OpenManager(filepath.Join(t.TempDir(), "none"), Options{}); err != nil {
		t.Errorf("missing directory: %v", err)
	}
}

func TestStacksOfAnotherService(t *testing.T) {
	m, err := OpenManager(realManager, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := m.Template("hello-service")
	if err != nil {
		t.Fatal(err)
	}
	e := prEnv(t)
	e.Service = "other-svc"
	if _, err := tmpl.Stacks(e); err == nil || !strings.Contains(err.Error(), `is of service "other-svc", not "hello-service"`) {
		t.Errorf("err = %v", err)
	}
}

// TestFileValues: the values the template gets are the arguments
// envfile writes into the environment file, name for name.
func TestFileValues(t *testing.T) {
	for _, e := range []envfile.Environment{prEnv(t), onDemandEnv(t)} {
		src, err := envfile.Render(e)
		if err != nil {
			t.Fatal(err)
		}
		f, diags := hclsyntax.ParseConfig(src, "env.tf", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		attrs := f.Body.(*hclsyntax.Body).Blocks[0].Body.Attributes
		vals := fileValues(e)
		for name, a := range attrs {
			if name == "source" || name == "shared" {
				continue
			}
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if got, ok := vals[name]; !ok || !got.RawEquals(v) {
				t.Errorf("%s %s: fileValues %#v, file %#v", e.Kind, name, got, v)
			}
		}
		if len(vals) != len(attrs)-2 {
			t.Errorf("%s: fileValues has %d values, the file %d arguments besides source and shared", e.Kind, len(vals), len(attrs)-2)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"hello-service-191559f5":      "hello-service-191559f5",
		"Hello Service: push":         "hello-service-push",
		"--a__b--":                    "a-b",
		"hello-service 191559f5-data": "hello-service-191559f5-data",
		"ÄÖ x":                        "x",
		"!!!":                         "",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

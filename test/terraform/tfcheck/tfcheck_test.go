package tfcheck_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"preview-environments/test/terraform/tfcheck"
)

// writeTree creates files (path -> content) under a fresh temp dir.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// checkErr asserts err is nil when want is empty, else that it mentions every
// substring in want.
func checkErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("want no error, got: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("want an error mentioning %q, got none", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error does not mention %q:\n%v", w, err)
		}
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := tfcheck.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func schemas(t *testing.T) tfcheck.Schemas {
	t.Helper()
	s, err := tfcheck.LoadSchemas(filepath.Join(repoRoot(t), "test/terraform/testdata/schema"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheckFormat(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"canonical", "a  = 1\nbb = 2\n", nil},
		{"unaligned equals", "a = 1\nbb = 2\n", []string{"not canonically formatted"}},
		{"tab indent", "x {\n\ta = 1\n}\n", []string{"not canonically formatted"}},
		{"canonical block", "x {\n  a = 1\n}\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"main.tf": tt.src})
			checkErr(t, tfcheck.CheckFormat(filepath.Join(dir, "main.tf")), tt.want...)
		})
	}
}

func TestCheckSchema(t *testing.T) {
	s := schemas(t)
	tests := []struct {
		name, src string
		want      []string
	}{
		{"valid stack and reference", `
resource "spacelift_stack" "s" {
  name       = "n"
  repository = "r"
  branch     = "main"
  labels     = ["a"]
}
resource "spacelift_stack_destructor" "d" {
  stack_id   = spacelift_stack.s.id
  depends_on = [spacelift_stack.s]
  timeouts {
    delete = "1h"
  }
  lifecycle {
    prevent_destroy = true
  }
}
`, nil},
		{"typo in argument", `
resource "spacelift_stack" "s" {
  name          = "n"
  repository    = "r"
  branch        = "main"
  project_roots = "infra"
}
`, []string{`unknown argument "project_roots"`, `did you mean "project_root"`}},
		{"unknown resource type", `
resource "spacelift_stacks" "s" {
  name = "n"
}
`, []string{`resource type "spacelift_stacks" is not in the`}},
		{"unknown data source", `
data "spacelift_currentstack" "s" {}
`, []string{`data source type "spacelift_currentstack"`}},
		{"no snapshot for provider", `
resource "google_bucket" "b" {}
`, []string{`no schema snapshot for provider "google"`}},
		{"missing required", `
resource "spacelift_stack" "s" {
  name = "n"
}
`, []string{`required argument "branch"`, `required argument "repository"`}},
		{"computed set", `
resource "spacelift_policy_attachment" "p" {
  policy_id = "x"
  id        = "y"
}
`, []string{`"id" is read-only`}},
		{"unknown nested block", `
resource "spacelift_stack_destructor" "d" {
  stack_id = "s"
  timeout {
    delete = "1h"
  }
}
`, []string{`unknown block "timeout"`, `did you mean "timeouts"`}},
		{"unknown nested argument", `
resource "spacelift_stack_destructor" "d" {
  stack_id = "s"
  timeouts {
    destroy = "1h"
  }
}
`, []string{`spacelift_stack_destructor.timeouts: unknown argument "destroy"`}},
		{"dynamic block checked by its label", `
resource "spacelift_stack_destructor" "d" {
  stack_id = "s"
  dynamic "timeouts" {
    for_each = [1]
    content {
      delet = "1h"
    }
  }
}
`, []string{`unknown argument "delet"`}},
		{"block used as argument", `
resource "spacelift_stack_destructor" "d" {
  stack_id = "s"
  timeouts = {}
}
`, []string{`"timeouts" is a block, not an argument`}},
		{"reference to unknown attribute", `
resource "spacelift_stack" "s" {
  name       = "n"
  repository = "r"
  branch     = "main"
}
resource "spacelift_stack_destructor" "d" {
  stack_id = spacelift_stack.s.idd
}
`, []string{`spacelift_stack.s has no attribute "idd"`}},
		{"reference to undeclared resource", `
resource "spacelift_stack_destructor" "d" {
  stack_id = spacelift_stack.missing.id
}
`, []string{`undeclared resource spacelift_stack.missing`}},
		{"data reference checked", `
data "spacelift_current_stack" "this" {}
resource "spacelift_policy_attachment" "p" {
  policy_id = "x"
  stack_id  = data.spacelift_current_stack.this.slug
}
`, []string{`data.spacelift_current_stack.this has no attribute "slug"`}},
		{"aws from the generated snapshot", `
resource "aws_lambda_function" "f" {
  function_name = "f"
  role          = "r"
  runtimes      = "provided.al2023"
}
`, []string{`unknown argument "runtimes"`, `did you mean "runtime"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"main.tf": tt.src})
			checkErr(t, tfcheck.CheckSchema(dir, s), tt.want...)
		})
	}
}

// The checked-in fixture with a typo is rejected, naming the typo.
func TestTypoFixtureRejected(t *testing.T) {
	err := tfcheck.CheckSchema(filepath.Join(repoRoot(t), "test/terraform/testdata/typo"), schemas(t))
	checkErr(t, err, "project_roots", "main.tf:6")
}

func TestCheckModuleCalls(t *testing.T) {
	child := `
variable "a" {
  type = string
}
variable "b" {
  type    = string
  default = "x"
}
`
	tests := []struct {
		name, call string
		want       []string
	}{
		{"required passed", `module "c" {
  source = "./child"
  a      = "1"
}`, nil},
		{"optional passed too", `module "c" {
  source = "./child"
  a      = "1"
  b      = "2"
}`, nil},
		{"required missing", `module "c" {
  source = "./child"
  b      = "2"
}`, []string{`does not pass required variable "a"`}},
		{"unknown argument", `module "c" {
  source = "./child"
  a      = "1"
  z      = "2"
}`, []string{`passes "z", which ./child does not declare`}},
		{"missing source directory", `module "c" {
  source = "./nope"
}`, []string{`no such directory`}},
		{"registry source", `module "c" {
  source = "hashicorp/x/aws"
}`, []string{`is not a local path`}},
		{"source not literal", `module "c" {
  source = var.x
}`, []string{`must be a literal string`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"main.tf": tt.call, "child/variables.tf": child})
			checkErr(t, tfcheck.CheckModuleCalls(dir), tt.want...)
		})
	}
}

func TestCheckFilePaths(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"exists via path.module", `locals {
  a = file("${path.module}/../policies/p.rego")
}`, nil},
		{"exists relative", `locals {
  a = filesha256("../policies/p.rego")
}`, nil},
		{"missing", `locals {
  a = file("${path.module}/../policies/q.rego")
}`, []string{"no such file", "q.rego"}},
		{"a directory", `locals {
  a = file("${path.module}/../policies")
}`, []string{"no such file"}},
		{"not static", `locals {
  a = file(var.path)
}`, []string{"literals and path.module only"}},
		{"nested in other calls", `locals {
  a = sha256(templatefile("${path.module}/../policies/missing.tpl", {}))
}`, []string{"templatefile(): no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, map[string]string{"mod/main.tf": tt.src, "policies/p.rego": "package p\n"})
			checkErr(t, tfcheck.CheckFilePaths(filepath.Join(root, "mod")), tt.want...)
		})
	}
}

func TestCheckStackVariables(t *testing.T) {
	target := `
variable "a" {
  type = string
}
variable "b" {
  type    = string
  default = "x"
}
`
	tests := []struct {
		name, setter string
		want         []string
	}{
		{"exact", `locals {
  tf_vars = { a = "1", b = "2" }
}`, nil},
		{"defaults may be omitted", `locals {
  tf_vars = { a = "1" }
}`, nil},
		{"required missing", `locals {
  tf_vars = { b = "2" }
}`, []string{"does not set TF_VAR_a"}},
		{"unknown name", `locals {
  tf_vars = { a = "1", environmnt = "2" }
}`, []string{`sets TF_VAR_environmnt`, `declares no variable "environmnt"`}},
		{"no tf_vars", `locals {
  other = {}
}`, []string{"no local.tf_vars"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, map[string]string{"setter/main.tf": tt.setter, "target/variables.tf": target})
			checkErr(t, tfcheck.CheckStackVariables(filepath.Join(root, "setter"), filepath.Join(root, "target")), tt.want...)
		})
	}
}

func TestEnvironmentID(t *testing.T) {
	// Vectors from `printf 'acme/shop#42' | sha256sum | cut -c1-8`.
	tests := []struct {
		owner, repo string
		n           int
		want        string
	}{
		{"acme", "shop", 42, "191559f5"},
		{"ACME", "Shop", 42, "191559f5"},
		{"octo-org", "hello-service", 7, "e6e556f2"},
	}
	for _, tt := range tests {
		if got := tfcheck.EnvironmentID(tt.owner, tt.repo, tt.n); got != tt.want {
			t.Errorf("EnvironmentID(%q, %q, %d) = %q, want %q", tt.owner, tt.repo, tt.n, got, tt.want)
		}
	}
}

package tfcheck_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"preview-environments/test/terraform/tfcheck"
)

const validEnv = `module "env_191559f5" {
  source         = "../template"
  environment_id = "191559f5"
  service        = "hello-service"
  pr_owner       = "acme"
  pr_repository  = "shop"
  pr_number      = 42
  code_version   = "latest"
  infra_branch   = "feature/x"
  created_at     = "2026-11-28T05:00:00Z"
  expires_at     = "2026-12-05T05:00:00Z"
  shared         = var.shared
}
`

const validName = "acme-shop-42-191559f5.tf"

// Each case mutates the valid file (one line replaced) and checks it against
// the real template's variables and validations.
func TestCheckEnvironmentFile(t *testing.T) {
	vars, err := tfcheck.Variables(filepath.Join(repoRoot(t), "manager/hello-service/template"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		old, new string // replace old with new in validEnv
		file     string // file name; validName if empty
		want     []string
	}{
		{name: "valid"},
		{name: "valid sha and nested branch", old: `code_version   = "latest"`, new: `code_version   = "0123456789abcdef0123456789abcdef01234567"`},
		{name: "valid release branch", old: `infra_branch   = "feature/x"`, new: `infra_branch   = "release/v1.2_x"`},
		{name: "id not hex", old: `environment_id = "191559f5"`, new: `environment_id = "191559fz"`, want: []string{`variable "environment_id"`, "8 lowercase hexadecimal"}},
		{name: "id of another PR", old: `pr_number      = 42`, new: `pr_number      = 43`, want: []string{"is not the ID of acme/shop#43"}},
		{name: "label does not match id", old: `module "env_191559f5"`, new: `module "env_00000000"`, want: []string{`module is named "env_00000000"`}},
		{name: "label without env_ prefix", old: `module "env_191559f5"`, new: `module "x191559f5"`, want: []string{"env_<environment id>"}},
		{name: "short sha", old: `code_version   = "latest"`, new: `code_version   = "abc123"`, want: []string{`variable "code_version"`}},
		{name: "uppercase sha", old: `code_version   = "latest"`, new: `code_version   = "0123456789ABCDEF0123456789abcdef01234567"`, want: []string{`variable "code_version"`}},
		{name: "interpolation in branch", old: `infra_branch   = "feature/x"`, new: `infra_branch   = "feature/$${jsonencode(1)}"`, want: []string{`variable "infra_branch"`}},
		{name: "branch with dot-dot", old: `infra_branch   = "feature/x"`, new: `infra_branch   = "feature/../x"`, want: []string{`variable "infra_branch"`}},
		{name: "branch with quote escape", old: `infra_branch   = "feature/x"`, new: `infra_branch   = "a\"b"`, want: []string{`variable "infra_branch"`}},
		{name: "branch ending in .lock", old: `infra_branch   = "feature/x"`, new: `infra_branch   = "x.lock"`, want: []string{`variable "infra_branch"`}},
		{name: "reference instead of literal", old: `infra_branch   = "feature/x"`, new: `infra_branch   = var.branch`, want: []string{`"infra_branch" must be a literal value`}},
		{name: "function call instead of literal", old: `service        = "hello-service"`, new: `service        = lower("HELLO-SERVICE")`, want: []string{`"service" must be a literal value`}},
		{name: "template expression calling a function", old: `service        = "hello-service"`, new: `service        = "hello-${lower("X")}"`, want: []string{`"service" must be a literal value`}},
		{name: "pr number zero", old: `pr_number      = 42`, new: `pr_number      = 0`, want: []string{`variable "pr_number"`, "positive whole number"}},
		{name: "pr number fraction", old: `pr_number      = 42`, new: `pr_number      = 4.5`, want: []string{`variable "pr_number"`}},
		{name: "pr number not a number", old: `pr_number      = 42`, new: `pr_number      = "forty-two"`, want: []string{`variable "pr_number"`, "want number"}},
		{name: "owner with slash", old: `pr_owner       = "acme"`, new: `pr_owner       = "ac/me"`, want: []string{`variable "pr_owner"`}},
		{name: "repository dot-dot", old: `pr_repository  = "shop"`, new: `pr_repository  = ".."`, want: []string{`variable "pr_repository"`}},
		{name: "created_at not UTC", old: `created_at     = "2026-11-28T05:00:00Z"`, new: `created_at     = "2026-11-28T05:00:00+01:00"`, want: []string{`variable "created_at"`}},
		{name: "expires_at impossible date", old: `expires_at     = "2026-12-05T05:00:00Z"`, new: `expires_at     = "2026-13-45T05:00:00Z"`, want: []string{`variable "expires_at"`}},
		{name: "shared not var.shared", old: `shared         = var.shared`, new: `shared         = var.other`, want: []string{"shared must be exactly var.shared"}},
		{name: "shared attribute of var.shared", old: `shared         = var.shared`, new: `shared         = var.shared.x`, want: []string{"shared must be exactly var.shared"}},
		{name: "unknown argument", old: `shared         = var.shared`, new: "shared         = var.shared\n  extra          = \"x\"", want: []string{`unknown argument "extra"`}},
		{name: "missing argument", old: `  expires_at     = "2026-12-05T05:00:00Z"` + "\n", new: "", want: []string{`missing argument "expires_at"`}},
		{name: "wrong source", old: `source         = "../template"`, new: `source         = "../other"`, want: []string{`source must be the literal "../template"`}},
		{name: "remote source", old: `source         = "../template"`, new: `source         = "git::https://example.com/x.git"`, want: []string{`source must be the literal "../template"`}},
		{name: "nested block", old: `shared         = var.shared`, new: "shared         = var.shared\n  lifecycle {}", want: []string{"nested blocks are not allowed"}},
		{name: "file name does not match", file: "acme-shop-42-00000000.tf", want: []string{"file must be named acme-shop-42-191559f5.tf"}},
		{name: "file name not lowercased", file: "ACME-shop-42-191559f5.tf", want: []string{"file must be named acme-shop-42-191559f5.tf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := validEnv
			if tt.old != "" {
				if !strings.Contains(src, tt.old) {
					t.Fatalf("test bug: %q not in the valid file", tt.old)
				}
				src = strings.Replace(src, tt.old, tt.new, 1)
			}
			name := tt.file
			if name == "" {
				name = validName
			}
			dir := writeTree(t, map[string]string{name: src})
			checkErr(t, tfcheck.CheckEnvironmentFile(filepath.Join(dir, name), vars), tt.want...)
		})
	}
}

func TestCheckEnvironmentFileShape(t *testing.T) {
	vars, err := tfcheck.Variables(filepath.Join(repoRoot(t), "manager/hello-service/template"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, src string
		want      []string
	}{
		{"two modules", validEnv + strings.Replace(validEnv, "env_191559f5", "env_x", 1), []string{"exactly one module block"}},
		{"extra resource", validEnv + "resource \"x\" \"y\" {}\n", []string{"exactly one module block"}},
		{"top-level attribute", "a = 1\n" + validEnv, []string{"exactly one module block"}},
		{"not HCL", "module {", []string{"parse"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{validName: tt.src})
			checkErr(t, tfcheck.CheckEnvironmentFile(filepath.Join(dir, validName), vars), tt.want...)
		})
	}
}

// A variable's validation can use only the functions the checker
// implements; anything else must fail loudly, not pass.
func TestValidateUnknownFunction(t *testing.T) {
	dir := writeTree(t, map[string]string{"variables.tf": `variable "x" {
  type = string
  validation {
    condition     = startswith(var.x, "a")
    error_message = "x must start with a."
  }
}
`})
	vars, err := tfcheck.Variables(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkErr(t, vars["x"].Validate(cty.StringVal("abc")), "evaluating validation", "startswith")
}

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
		{name: "on-demand id on a PR", old: validEnv, new: strings.ReplaceAll(validEnv, "191559f5", "o6ef4836"), file: "acme-shop-42-o6ef4836.tf", want: []string{`environment_id "o6ef4836" is not the ID of acme/shop#42`}},
		{name: "pr number missing", old: `  pr_number      = 42` + "\n", new: "", want: []string{"pr_number are needed to check the identity"}},
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
		{name: "enterprise managed user owner", file: "octocat_acme-shop-42-3dd1ec25.tf", old: validEnv,
			new: strings.NewReplacer(`"env_191559f5"`, `"env_3dd1ec25"`, `"191559f5"`, `"3dd1ec25"`, `"acme"`, `"octocat_acme"`).Replace(validEnv)},
		{name: "owner with consecutive hyphens", old: `pr_owner       = "acme"`, new: `pr_owner       = "ac--me"`, want: []string{`variable "pr_owner"`}},
		{name: "owner ending in a hyphen", old: `pr_owner       = "acme"`, new: `pr_owner       = "acme-"`, want: []string{`variable "pr_owner"`}},
		{name: "owner with a shortcode too short", old: `pr_owner       = "acme"`, new: `pr_owner       = "acme_ab"`, want: []string{`variable "pr_owner"`}},
		{name: "owner longer than 39", old: `pr_owner       = "acme"`, new: `pr_owner       = "` + strings.Repeat("a", 35) + `_acme"`, want: []string{`variable "pr_owner"`}},
		{name: "repository ending in .git", old: `pr_repository  = "shop"`, new: `pr_repository  = "shop.GIT"`, want: []string{`variable "pr_repository"`}},
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

const validOnDemand = `module "env_o6ef4836" {
  source         = "../template"
  environment_id = "o6ef4836"
  service        = "hello-service"
  kind           = "ondemand"
  name           = "qa-checkout"
  code_version   = "latest"
  infra_branch   = "main"
  created_at     = "2026-11-28T05:00:00Z"
  expires_at     = "2026-11-30T05:00:00Z"
  shared         = var.shared
}
`

const validOnDemandName = "ondemand-qa-checkout-o6ef4836.tf"

// On-demand files (kind = "ondemand", a name, no pr_*) against the real
// template, one line changed per case.
func TestCheckOnDemandEnvironmentFile(t *testing.T) {
	vars, err := tfcheck.Variables(filepath.Join(repoRoot(t), "manager/hello-service/template"))
	if err != nil {
		t.Fatal(err)
	}
	if got := tfcheck.OnDemandID("qa-checkout"); got != "o6ef4836" {
		t.Fatalf("OnDemandID(qa-checkout) = %s", got)
	}
	tests := []struct {
		name, old, new, file string
		want                 []string
	}{
		{name: "valid"},
		{name: "valid sha", old: `code_version   = "latest"`, new: `code_version   = "0123456789abcdef0123456789abcdef01234567"`},
		{name: "bad kind", old: `kind           = "ondemand"`, new: `kind           = "adhoc"`, want: []string{`variable "kind"`, `must be "pr" or "ondemand"`}},
		{name: "kind pr spelled out", old: `kind           = "ondemand"`, new: `kind           = "pr"`, want: []string{`a PR environment's file sets no kind`}},
		{name: "uppercase name", old: `name           = "qa-checkout"`, new: `name           = "QA-checkout"`, want: []string{`variable "name"`}},
		{name: "name with dot-dot", old: `name           = "qa-checkout"`, new: `name           = "../x"`, want: []string{`variable "name"`}},
		{name: "name with interpolation", old: `name           = "qa-checkout"`, new: `name           = "$${x}"`, want: []string{`variable "name"`}},
		{name: "name 200 characters", old: `name           = "qa-checkout"`, new: `name           = "` + strings.Repeat("a", 200) + `"`, want: []string{`variable "name"`}},
		{name: "name missing", old: `  name           = "qa-checkout"` + "\n", want: []string{"an on-demand environment needs a name"}},
		{name: "with a PR number", old: `  shared`, new: "  pr_number      = 1\n  shared", want: []string{"pr_number is set, but an on-demand environment belongs to no PR"}},
		{name: "id of another name", old: validOnDemand, new: strings.ReplaceAll(validOnDemand, "o6ef4836", "o0000000"), file: "ondemand-qa-checkout-o0000000.tf",
			want: []string{`environment_id "o0000000" is not the ID of on-demand environment qa-checkout (o6ef4836)`}},
		{name: "PR-form id", old: validOnDemand, new: strings.ReplaceAll(validOnDemand, "o6ef4836", "191559f5"), file: "ondemand-qa-checkout-191559f5.tf",
			want: []string{`environment_id "191559f5" is not the ID of on-demand environment qa-checkout`}},
		{name: "id outside both forms", old: validOnDemand, new: strings.ReplaceAll(validOnDemand, "o6ef4836", "z6ef4836"), want: []string{`variable "environment_id"`}},
		{name: "file name", file: "ondemand-qa-other-o6ef4836.tf", want: []string{"file must be named ondemand-qa-checkout-o6ef4836.tf"}},
		{name: "name on a PR file", old: validOnDemand, new: strings.Replace(validEnv, "  shared", "  name           = \"qa-checkout\"\n  shared", 1), file: validName,
			want: []string{"name is set, but only an on-demand environment"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := validOnDemand
			if tt.old != "" {
				if !strings.Contains(src, tt.old) {
					t.Fatalf("test bug: %q not in the valid file", tt.old)
				}
				src = strings.Replace(src, tt.old, tt.new, 1)
			}
			name := tt.file
			if name == "" {
				name = validOnDemandName
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

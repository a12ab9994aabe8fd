package spacelift

// End-to-end tests: the real OpenTofu (bin/tofu, built by `make
// bin/tofu`) runs this provider, built into a temporary directory, against
// slapi.NewServer over an in-memory backend.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

const (
	runToken     = "run-token"
	managerStack = "preview-environments-manager"
)

var (
	buildOnce   sync.Once
	providerDir string
	buildErr    error
	tmpRoot     string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tmpRoot != "" {
		os.RemoveAll(tmpRoot)
	}
	os.Exit(code)
}

// tofuBinary is the repository's bin/tofu, or tofu on PATH (make puts bin/
// first on it).
func tofuBinary(t *testing.T) string {
	t.Helper()
	if p, err := filepath.Abs(filepath.Join("..", "..", "..", "..", "..", "bin", "tofu")); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("tofu"); err == nil {
		return p
	}
	t.Fatal("bin/tofu is absent: run make tools (make test builds it first) to run the OpenTofu end-to-end tests")
	return ""
}

// buildProvider builds the provider binary once per test binary.
func buildProvider(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		tmpRoot, buildErr = os.MkdirTemp("", "slprovider-")
		if buildErr != nil {
			return
		}
		providerDir = filepath.Join(tmpRoot, "bin")
		cmd := exec.Command("go", "build", "-o", filepath.Join(providerDir, "terraform-provider-spacelift"),
			"preview-environments/previewctl/cmd/terraform-provider-spacelift")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return providerDir
}

// workspace is a directory of Terraform files and the environment tofu
// runs with there.
type workspace struct {
	t    *testing.T
	tofu string
	dir  string
	env  []string
}

// newWorkspace writes files (path -> content) into a new directory, with a
// CLI config whose dev_overrides point the provider address at the
// binary built here, and an API server over mem.
func newWorkspace(t *testing.T, mem *slapi.Memory, files map[string]string) *workspace {
	t.Helper()
	tofu := tofuBinary(t)
	bin := buildProvider(t)
	srv := httptest.NewServer(slapi.NewServer(mem))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	cliConfig := filepath.Join(dir, "cli.tfrc")
	writeFile(t, cliConfig, fmt.Sprintf(`provider_installation {
  dev_overrides {
    %q = %q
  }
  direct {
    exclude = ["*/*/*"]
  }
}
`, Address, bin))
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	return &workspace{t: t, tofu: tofu, dir: dir, env: tofuEnv(cliConfig, srv.URL, runToken)}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tofuEnv is the process environment minus anything that configures tofu
// or the provider, plus what these tests set. The machine's own
// TF_CLI_CONFIG_FILE points at a file that does not exist.
func tofuEnv(cliConfig, endpoint, token string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TF_") || strings.HasPrefix(kv, "SPACELIFT_") || strings.HasPrefix(kv, "CHECKPOINT_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		slapi.EnvEndpoint+"="+endpoint,
		slapi.EnvToken+"="+token,
	)
}

// run runs tofu and returns its combined output and exit code.
func (w *workspace) run(args ...string) (string, int) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.tofu, append(args[:1:1], append([]string{"-no-color"}, args[1:]...)...)...)
	cmd.Dir = w.dir
	cmd.Env = w.env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	default:
		w.t.Fatalf("tofu %v: %v\n%s", args, err, out)
		return "", -1
	}
}

// must runs tofu and fails the test unless it exits with want.
func (w *workspace) must(want int, args ...string) string {
	w.t.Helper()
	out, code := w.run(args...)
	if code != want {
		w.t.Fatalf("tofu %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out)
	}
	return out
}

type tfResource struct {
	Address string         `json:"address"`
	Values  map[string]any `json:"values"`
}

type tfModule struct {
	Resources    []tfResource `json:"resources"`
	ChildModules []tfModule   `json:"child_modules"`
}

// state is `tofu show -json`'s resources by address.
func (w *workspace) state() map[string]map[string]any {
	w.t.Helper()
	var show struct {
		Values struct {
			RootModule tfModule `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(w.must(0, "show", "-json")), &show); err != nil {
		w.t.Fatalf("tofu show -json: %v", err)
	}
	out := map[string]map[string]any{}
	var walk func(m tfModule)
	walk = func(m tfModule) {
		for _, r := range m.Resources {
			out[r.Address] = r.Values
		}
		for _, c := range m.ChildModules {
			walk(c)
		}
	}
	walk(show.Values.RootModule)
	return out
}

// planChanges plans into a file and returns the actions of every resource
// change that is not a no-op, by address.
func (w *workspace) planChanges(args ...string) map[string][]string {
	w.t.Helper()
	w.must(0, append([]string{"plan", "-input=false", "-out=tfplan"}, args...)...)
	var plan struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				Actions []string `json:"actions"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal([]byte(w.must(0, "show", "-json", "tfplan")), &plan); err != nil {
		w.t.Fatalf("tofu show -json tfplan: %v", err)
	}
	out := map[string][]string{}
	for _, rc := range plan.ResourceChanges {
		if !slices.Equal(rc.Change.Actions, []string{"no-op"}) {
			out[rc.Address] = rc.Change.Actions
		}
	}
	return out
}

const rootConfig = `
terraform {
  required_providers {
    spacelift = {
      source  = "registry.terraform.io/spacelift-io/spacelift"
      version = "~> 1.53"
    }
  }
}

provider "spacelift" {}

variable "code_version" {
  type = string
}

data "spacelift_current_stack" "this" {}

resource "spacelift_policy" "push" {
  name        = "Hello Service: push"
  type        = "GIT_PUSH"
  engine_type = "REGO_V1"
  body        = "package spacelift\n\ntrack if input.push.branch == input.stack.branch\n"
  labels      = ["preview-environments", "hello-service"]
}

resource "spacelift_aws_integration" "this" {
  name     = "manager-aws"
  role_arn = "arn:aws:iam::123456789012:role/preview"
  region   = "eu-west-1"
  labels   = ["preview-environments"]
}

module "env" {
  source = "./env"

  code_version       = var.code_version
  manager_stack_id   = data.spacelift_current_stack.this.id
  push_policy_id     = spacelift_policy.push.id
  aws_integration_id = spacelift_aws_integration.this.id
}

output "stack_id" {
  value = module.env.stack_id
}
`

// envModule is shaped like manager/hello-service/template.
const envModule = `
terraform {
  required_providers {
    spacelift = {
      source = "registry.terraform.io/spacelift-io/spacelift"
    }
  }
}

variable "code_version" {
  type = string
}

variable "manager_stack_id" {
  type = string
}

variable "push_policy_id" {
  type = string
}

variable "aws_integration_id" {
  type = string
}

locals {
  tf_vars = {
    code_version = var.code_version
    service      = "hello-service"
    environment  = "1a2b3c4d"
  }
}

resource "spacelift_stack" "this" {
  name                    = "Hello Service 1a2b3c4d"
  description             = "Preview of acme/shop#42"
  repository              = "preview-environments"
  branch                  = "feature/x"
  project_root            = "infra"
  autodeploy              = true
  terraform_workflow_tool = "OPEN_TOFU"
  terraform_version       = "1.10.6"
  labels = [
    "preview-environment-managed-by:${var.manager_stack_id}",
    "preview_environment_id:1a2b3c4d",
  ]
}

resource "spacelift_environment_variable" "tf_vars" {
  for_each = local.tf_vars

  stack_id   = spacelift_stack.this.id
  name       = "TF_VAR_${each.key}"
  value      = each.value
  write_only = false
}

# write_only omitted: the real provider's default (true) applies.
resource "spacelift_environment_variable" "secret" {
  stack_id = spacelift_stack.this.id
  name     = "SECRET_TOKEN"
  value    = "s3cret"
}

resource "spacelift_policy_attachment" "push" {
  policy_id = var.push_policy_id
  stack_id  = spacelift_stack.this.id
}

# read and write omitted: both default to true.
resource "spacelift_aws_integration_attachment" "aws" {
  integration_id = var.aws_integration_id
  stack_id       = spacelift_stack.this.id
}

data "spacelift_role" "admin" {
  name = "Space admin"
}

resource "spacelift_role_attachment" "this" {
  role_id  = data.spacelift_role.admin.id
  space_id = "root"
  stack_id = spacelift_stack.this.id
}

resource "spacelift_stack_destructor" "this" {
  stack_id = spacelift_stack.this.id

  depends_on = [
    spacelift_environment_variable.tf_vars,
    spacelift_environment_variable.secret,
    spacelift_policy_attachment.push,
    spacelift_aws_integration_attachment.aws,
    spacelift_role_attachment.this,
  ]

  timeouts {
    delete = "1m"
  }
}

output "stack_id" {
  value = spacelift_stack.this.id
}
`

func TestTofuLifecycle(t *testing.T) {
	t.Parallel()
	mem := slapi.NewMemory()
	mem.SetToken(runToken, managerStack)
	// Long enough that the destructor polls while the stack is DELETING.
	mem.DestroyDelay = 600 * time.Millisecond
	w := newWorkspace(t, mem, map[string]string{"main.tf": rootConfig, "env/main.tf": envModule})
	const stackID = "hello-service-1a2b3c4d"
	v1 := []string{"-var", "code_version=v1"}

	// With dev_overrides `tofu init` refuses the version constraint (it
	// still queries the registry); `tofu get` installs the module, which
	// is all init would do here.
	w.must(0, "get")

	w.must(2, append([]string{"plan", "-input=false", "-detailed-exitcode"}, v1...)...)
	w.must(0, append([]string{"apply", "-input=false", "-auto-approve"}, v1...)...)

	d := mem.Dump()
	if len(d.Stacks) != 1 {
		t.Fatalf("stacks %+v, want one", d.Stacks)
	}
	st := d.Stacks[0]
	wantSpec := slapi.StackSpec{
		Name: "Hello Service 1a2b3c4d", Slug: stackID, Description: "Preview of acme/shop#42",
		Repository: "preview-environments", Branch: "feature/x", ProjectRoot: "infra",
		AdditionalProjectGlobs: []string{},
		Labels:                 []string{"preview-environment-managed-by:" + managerStack, "preview_environment_id:1a2b3c4d"},
		Autodeploy:             true, SpaceID: "root", ManageState: true,
		TerraformVersion: "1.10.6", TerraformWorkflowTool: "OPEN_TOFU",
	}
	if st.ID != stackID || !sameStack(st.StackSpec, wantSpec) {
		t.Errorf("stack %+v\nwant spec %+v", st, wantSpec)
	}
	wantVars := map[string]slapi.EnvVar{
		"TF_VAR_code_version": {Value: "v1"},
		"TF_VAR_service":      {Value: "hello-service"},
		"TF_VAR_environment":  {Value: "1a2b3c4d"},
		"SECRET_TOKEN":        {Value: "s3cret", WriteOnly: true},
	}
	checkVars := func(want map[string]slapi.EnvVar) {
		t.Helper()
		got := map[string]slapi.EnvVar{}
		for _, v := range mem.Dump().EnvVars {
			got[v.Name] = slapi.EnvVar{Value: v.Value, WriteOnly: v.WriteOnly}
		}
		if !mapsEqual(got, want) {
			t.Errorf("env vars %+v, want %+v", got, want)
		}
	}
	checkVars(wantVars)
	if len(d.Policies) != 1 || d.Policies[0].ID != "hello-service-push" || d.Policies[0].EngineType != "REGO_V1" || d.Policies[0].SpaceID != "root" {
		t.Errorf("policies %+v, want hello-service-push, REGO_V1, in root", d.Policies)
	}
	if len(d.PolicyAttachments) != 1 || d.PolicyAttachments[0].ID != "hello-service-push/"+stackID {
		t.Errorf("policy attachments %+v", d.PolicyAttachments)
	}
	if len(d.AWSAttachments) != 1 || !d.AWSAttachments[0].Read || !d.AWSAttachments[0].Write || d.AWSAttachments[0].StackID != stackID {
		t.Errorf("aws attachments %+v, want one to %s with read and write (the defaults)", d.AWSAttachments, stackID)
	}
	if len(d.AWSIntegrations) != 1 || d.AWSIntegrations[0].DurationSeconds != 900 || d.AWSIntegrations[0].Region != "eu-west-1" {
		t.Errorf("aws integrations %+v, want one with the default 900 s", d.AWSIntegrations)
	}
	if len(d.RoleAttachments) != 1 || d.RoleAttachments[0].RoleID != slapi.SpaceAdminRoleID || d.RoleAttachments[0].StackID != stackID {
		t.Errorf("role attachments %+v", d.RoleAttachments)
	}

	state := w.state()
	checks := []struct {
		address, attr string
		want          any
	}{
		{"data.spacelift_current_stack.this", "id", managerStack},
		{"module.env.spacelift_stack.this", "id", stackID},
		{"module.env.spacelift_stack.this", "slug", stackID},
		{"module.env.spacelift_stack.this", "space_id", "root"},
		{"module.env.spacelift_stack.this", "manage_state", nil}, // omitted: null, the API holds the default
		{`module.env.spacelift_environment_variable.tf_vars["code_version"]`, "id", "stack/" + stackID + "/TF_VAR_code_version"},
		{`module.env.spacelift_environment_variable.tf_vars["code_version"]`, "checksum", slapi.Checksum("v1")},
		{`module.env.spacelift_environment_variable.tf_vars["code_version"]`, "value", "v1"},
		{"module.env.spacelift_environment_variable.secret", "value", "s3cret"}, // kept from the config: the API hides it
		{"module.env.spacelift_environment_variable.secret", "checksum", slapi.Checksum("s3cret")},
		{"module.env.spacelift_environment_variable.secret", "write_only", nil},
		{"spacelift_policy.push", "id", "hello-service-push"},
		{"module.env.spacelift_policy_attachment.push", "id", "hello-service-push/" + stackID},
		{"module.env.spacelift_aws_integration_attachment.aws", "id", d.AWSIntegrations[0].ID + "/" + stackID},
		{"module.env.spacelift_aws_integration_attachment.aws", "attachment_id", d.AWSAttachments[0].AttachmentID},
		{"module.env.spacelift_role_attachment.this", "id", "STACK/" + d.RoleAttachments[0].ID},
		{"module.env.data.spacelift_role.admin", "id", slapi.SpaceAdminRoleID},
		{"module.env.spacelift_stack_destructor.this", "id", "destructor-" + stackID},
	}
	for _, c := range checks {
		r, ok := state[c.address]
		if !ok {
			t.Errorf("state has no %s; it has %v", c.address, keys(state))
			continue
		}
		if got := r[c.attr]; got != c.want {
			t.Errorf("%s.%s = %#v, want %#v", c.address, c.attr, got, c.want)
		}
	}

	// Read after apply finds nothing to change: no attribute that the API
	// normalizes or that the provider defaults shows up as a diff.
	w.must(0, append([]string{"plan", "-input=false", "-detailed-exitcode"}, v1...)...)

	// A changed value replaces the variable (every argument forces a new
	// one, as in the real provider), and nothing else changes.
	changes := w.planChanges("-var", "code_version=v2")
	wantChanges := map[string][]string{
		`module.env.spacelift_environment_variable.tf_vars["code_version"]`: {"delete", "create"},
	}
	if !mapsEqual(changes, wantChanges) {
		t.Errorf("plan with code_version=v2: %v, want %v", changes, wantChanges)
	}
	w.must(0, "apply", "-input=false", "tfplan")
	wantVars["TF_VAR_code_version"] = slapi.EnvVar{Value: "v2"}
	checkVars(wantVars)

	// Destroy: the destructor goes first (it depends on everything), while
	// every variable and attachment its destroy run needs still exists,
	// and waits for the destroy to finish before the rest is deleted.
	start := time.Now()
	w.must(0, "destroy", "-input=false", "-auto-approve", "-var", "code_version=v2")
	if elapsed := time.Since(start); elapsed < mem.DestroyDelay {
		t.Errorf("destroy took %s, less than the destroy run's %s: the destructor did not wait", elapsed, mem.DestroyDelay)
	}
	log := mem.Log()
	queued := slices.Index(log, "destroy stack "+stackID+" queued with 4 env vars, 1 policy attachments, 1 aws attachments, 1 role attachments")
	finished := slices.Index(log, "destroy stack "+stackID+" finished")
	deletedPolicy := slices.Index(log, "delete policy hello-service-push")
	if queued < 0 || finished < queued || deletedPolicy < finished {
		t.Errorf("want the destroy queued with all 4 variables and 3 attachments, then finished, then the policy deleted; log:\n%s", strings.Join(log, "\n"))
	}
	if d := mem.Dump(); len(d.Stacks)+len(d.EnvVars)+len(d.Policies)+len(d.PolicyAttachments)+len(d.AWSIntegrations)+len(d.AWSAttachments)+len(d.RoleAttachments) != 0 {
		t.Errorf("after destroy the backend still holds %+v", d)
	}
}

const stackOnly = `
terraform {
  required_providers {
    spacelift = {
      source = "registry.terraform.io/spacelift-io/spacelift"
    }
  }
}

resource "spacelift_stack" "this" {
  name       = "adopt me"
  repository = "preview-environments"
  branch     = %q
  labels     = ["preview-environments"]
}
`

// TestTofuAdoptsStackAfterLostState is a manager run killed after the
// stack was created and before tofu saved its state: the next run must
// converge on the same stack, and must not take over a different one.
func TestTofuAdoptsStackAfterLostState(t *testing.T) {
	t.Parallel()
	mem := slapi.NewMemory()
	mem.SetToken(runToken, managerStack)
	w := newWorkspace(t, mem, map[string]string{"main.tf": fmt.Sprintf(stackOnly, "main")})
	w.must(0, "apply", "-input=false", "-auto-approve")
	loseState := func() {
		t.Helper()
		for _, f := range []string{"terraform.tfstate", "terraform.tfstate.backup"} {
			if err := os.Remove(filepath.Join(w.dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
		}
	}

	loseState()
	w.must(0, "apply", "-input=false", "-auto-approve")
	if got := w.state()["spacelift_stack.this"]["id"]; got != "adopt-me" {
		t.Errorf("adopted stack id %v, want adopt-me", got)
	}
	creates := 0
	for _, l := range mem.Log() {
		if strings.HasPrefix(l, "create stack") {
			creates++
		}
	}
	if len(mem.Dump().Stacks) != 1 || creates != 1 {
		t.Errorf("after adoption: %d stacks, %d creates; want 1 and 1", len(mem.Dump().Stacks), creates)
	}
	w.must(0, "plan", "-input=false", "-detailed-exitcode")

	loseState()
	writeFile(t, filepath.Join(w.dir, "main.tf"), fmt.Sprintf(stackOnly, "other-branch"))
	out := w.must(1, "apply", "-input=false", "-auto-approve")
	if !strings.Contains(out, "stack adopt-me already exists") {
		t.Errorf("apply over a different stack with the same slug: want an 'already exists' error, got\n%s", out)
	}
	if st := mem.Dump().Stacks; len(st) != 1 || st[0].Branch != "main" {
		t.Errorf("the existing stack changed: %+v", st)
	}
}

func TestTofuNeedsEndpointAndToken(t *testing.T) {
	t.Parallel()
	mem := slapi.NewMemory()
	mem.SetToken(runToken, managerStack)
	w := newWorkspace(t, mem, map[string]string{"main.tf": `
terraform {
  required_providers {
    spacelift = { source = "registry.terraform.io/spacelift-io/spacelift" }
  }
}
data "spacelift_current_stack" "this" {}
output "id" { value = data.spacelift_current_stack.this.id }
`})
	full := w.env
	tests := []struct {
		drop, want string
	}{
		{slapi.EnvEndpoint, "Missing Spacelift endpoint"},
		{slapi.EnvToken, "Missing Spacelift API token"},
	}
	for _, tt := range tests {
		t.Run(tt.drop, func(t *testing.T) {
			w.env = slices.DeleteFunc(slices.Clone(full), func(kv string) bool { return strings.HasPrefix(kv, tt.drop+"=") })
			out := w.must(1, "plan", "-input=false")
			if !strings.Contains(out, tt.want) || !strings.Contains(out, tt.drop) {
				t.Errorf("plan without %s: want %q naming the variable, got\n%s", tt.drop, tt.want, out)
			}
		})
	}
	w.env = full
	if out := w.must(0, "apply", "-input=false", "-auto-approve"); !strings.Contains(out, `id = "`+managerStack+`"`) {
		t.Errorf("with both set: want the current stack's id, got\n%s", out)
	}
}

// TestTofuInitFromFilesystemMirror installs the provider the way a
// configuration with modules and other providers needs it (manager/):
// through `tofu init` from a filesystem mirror, where dev_overrides would
// make init fail on the version constraint.
func TestTofuInitFromFilesystemMirror(t *testing.T) {
	t.Parallel()
	tofu := tofuBinary(t)
	bin := buildProvider(t)
	mem := slapi.NewMemory()
	mem.SetToken(runToken, managerStack)
	srv := httptest.NewServer(slapi.NewServer(mem))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	mirror := filepath.Join(dir, "mirror")
	pkg := filepath.Join(mirror, "registry.terraform.io", "spacelift-io", "spacelift", "1.53.5", runtime.GOOS+"_"+runtime.GOARCH)
	data, err := os.ReadFile(filepath.Join(bin, "terraform-provider-spacelift"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, "terraform-provider-spacelift_v1.53.5"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	cliConfig := filepath.Join(dir, "cli.tfrc")
	writeFile(t, cliConfig, fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/spacelift-io/*"]
  }
  direct {
    exclude = ["registry.terraform.io/spacelift-io/*"]
  }
}
`, mirror))
	writeFile(t, filepath.Join(dir, "main.tf"), `
terraform {
  required_providers {
    spacelift = {
      source  = "registry.terraform.io/spacelift-io/spacelift"
      version = "~> 1.53"
    }
  }
}
module "current" {
  source = "./current"
}
output "id" { value = module.current.id }
`)
	writeFile(t, filepath.Join(dir, "current", "main.tf"), `
terraform {
  required_providers {
    spacelift = { source = "registry.terraform.io/spacelift-io/spacelift" }
  }
}
data "spacelift_current_stack" "this" {}
output "id" { value = data.spacelift_current_stack.this.id }
`)
	w := &workspace{t: t, tofu: tofu, dir: dir, env: tofuEnv(cliConfig, srv.URL, runToken)}
	if out := w.must(0, "init", "-input=false"); !strings.Contains(out, "1.53.5") {
		t.Errorf("init did not install 1.53.5 from the mirror:\n%s", out)
	}
	if out := w.must(0, "apply", "-input=false", "-auto-approve"); !strings.Contains(out, `id = "`+managerStack+`"`) {
		t.Errorf("want the current stack's id, got\n%s", out)
	}
}

func mapsEqual[V any](a, b map[string]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok || fmt.Sprint(va) != fmt.Sprint(vb) {
			return false
		}
	}
	return true
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// copyTF copies the *.tf and *.rego files of the repository's folder src
// into dst: tofu then writes its state and data directory there, never
// into the tree.
func copyTF(t *testing.T, src, dst string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", "..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(root, src))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || (filepath.Ext(e.Name()) != ".tf" && filepath.Ext(e.Name()) != ".rego") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dst, e.Name()), string(data))
	}
}

// TestTofuRealRoots applies the repository's own setup/ and
// manager/hello-service/template (the spacelift-only parts of what the
// sandbox runs), re-plans them to no changes, and destroys them through
// their destructors.
func TestTofuRealRoots(t *testing.T) {
	t.Parallel()
	mem := slapi.NewMemory()
	// setup/ runs with an API key outside any run; the template runs
	// inside the manager's runs.
	mem.SetToken(runToken, "")
	mem.SetToken("manager-run", managerStack)
	mem.DestroyDelay = 300 * time.Millisecond
	setup := newWorkspace(t, mem, nil)
	copyTF(t, "setup", filepath.Join(setup.dir, "setup"))
	copyTF(t, "policies", filepath.Join(setup.dir, "policies"))
	setup.dir = filepath.Join(setup.dir, "setup")
	setupVars := []string{
		"-var", "preview_domain=preview.example.com",
		"-var", "hosted_zone_id=Z0123456789ABCDEFGHIJ",
		"-var", "aws_region=eu-west-1",
		"-var", "artifact_bucket=acme-artifacts",
		"-var", "aws_role_arn=arn:aws:iam::123456789012:role/preview",
		"-var", "repository=preview-environments",
	}
	setup.must(0, append([]string{"apply", "-input=false", "-auto-approve"}, setupVars...)...)
	setup.must(0, append([]string{"plan", "-input=false", "-detailed-exitcode"}, setupVars...)...)

	d := mem.Dump()
	if len(d.Stacks) != 1 || d.Stacks[0].ID != managerStack || d.Stacks[0].ProjectRoot != "manager" || !d.Stacks[0].Autodeploy {
		t.Fatalf("after setup: stacks %+v, want the manager", d.Stacks)
	}
	if len(d.EnvVars) != 9 || len(d.Policies) != 1 || d.Policies[0].Type != "TRIGGER" || len(d.PolicyAttachments) != 1 ||
		len(d.AWSAttachments) != 1 || len(d.RoleAttachments) != 1 || d.RoleAttachments[0].RoleID != slapi.SpaceAdminRoleID {
		t.Errorf("after setup: %+v", d)
	}
	awsID := d.AWSIntegrations[0].ID

	// What manager/hello-service/main.tf would have created first.
	push, err := mem.CreatePolicy(context.Background(), slapi.PolicySpec{Name: "hello-service preview environments: push", Type: "GIT_PUSH", Body: "package spacelift"})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := newWorkspace(t, mem, nil)
	copyTF(t, filepath.Join("manager", "hello-service", "template"), tmpl.dir)
	tmpl.env = append(slices.DeleteFunc(tmpl.env, func(kv string) bool { return strings.HasPrefix(kv, slapi.EnvToken+"=") }), slapi.EnvToken+"=manager-run")
	vars, err := json.Marshal(map[string]any{
		"environment_id": "1a2b3c4d", "service": "hello-service", "pr_owner": "acme", "pr_repository": "shop",
		"pr_number": 42, "code_version": "latest", "infra_branch": "main",
		"created_at": "2026-11-28T05:00:00Z", "expires_at": "2026-12-05T05:00:00Z",
		"shared": map[string]any{
			"data_stack": true, "manager_stack_id": managerStack, "space_id": "root", "repository": "preview-environments",
			"domain_name": "hello-service.preview.example.com", "hosted_zone_id": "Z0123456789ABCDEFGHIJ",
			"certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/x", "push_policy_id": push.ID,
			"aws_integration_id": awsID, "artifact_bucket": "acme-artifacts", "aws_region": "eu-west-1",
			"opentofu_version": "1.10.6",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(tmpl.dir, "env.auto.tfvars.json"), string(vars))
	tmpl.must(0, "apply", "-input=false", "-auto-approve")
	tmpl.must(0, "plan", "-input=false", "-detailed-exitcode")
	env, err := mem.GetStack(context.Background(), "hello-service-1a2b3c4d")
	if err != nil {
		t.Fatalf("the environment's stack: %v", err)
	}
	if !slices.Contains(env.Labels, "preview-environment-managed-by:"+managerStack) || env.ProjectRoot != "infra" || env.TerraformWorkflowTool != "OPEN_TOFU" {
		t.Errorf("environment stack %+v", env)
	}
	if v, err := mem.GetEnvVar(context.Background(), env.ID, "TF_VAR_code_version"); err != nil || v.Value != "latest" {
		t.Errorf("TF_VAR_code_version: %+v, %v", v, err)
	}
	// The data stack, and the dependency that feeds two of its outputs to
	// the service stack's inputs.
	if data, err := mem.GetStack(context.Background(), "hello-service-1a2b3c4d-data"); err != nil || data.ProjectRoot != "infra/data" {
		t.Errorf("the data stack: %+v, %v", data, err)
	}
	dump := mem.Dump()
	if len(dump.Dependencies) != 1 || dump.Dependencies[0].StackID != env.ID || dump.Dependencies[0].DependsOnStackID != "hello-service-1a2b3c4d-data" {
		t.Errorf("dependencies %+v, want the service on its data stack", dump.Dependencies)
	}
	var inputs []string
	for _, r := range dump.References {
		inputs = append(inputs, r.OutputName+"->"+r.InputName)
	}
	slices.Sort(inputs)
	if want := []string{"bucket->TF_VAR_greeting_bucket", "greeting_key->TF_VAR_greeting_key"}; !slices.Equal(inputs, want) {
		t.Errorf("references %v, want %v", inputs, want)
	}

	tmpl.must(0, "destroy", "-input=false", "-auto-approve")
	if _, err := mem.GetStack(context.Background(), env.ID); !errors.Is(err, slapi.ErrNotFound) {
		t.Errorf("the environment's stack after its destroy: %v, want ErrNotFound", err)
	}
	setup.must(0, append([]string{"destroy", "-input=false", "-auto-approve"}, setupVars...)...)
	log := strings.Join(mem.Log(), "\n")
	for _, want := range []string{
		"destroy stack hello-service-1a2b3c4d queued with 8 env vars, 1 policy attachments, 1 aws attachments, 0 role attachments",
		"destroy stack hello-service-1a2b3c4d-data queued with 3 env vars, 1 policy attachments, 1 aws attachments, 0 role attachments",
		"destroy stack " + managerStack + " queued with 9 env vars, 1 policy attachments, 1 aws attachments, 1 role attachments",
		"destroy stack " + managerStack + " finished",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	// The service is destroyed (and deleted, its dependency with it) before
	// the data stack's destroy is even queued: the data stack has no
	// dependents left when its destructor deletes it.
	if s, d := strings.Index(log, "destroy stack hello-service-1a2b3c4d finished"),
		strings.Index(log, "destroy stack hello-service-1a2b3c4d-data queued"); s < 0 || d < 0 || d < s {
		t.Errorf("want the service's destroy finished before the data stack's was queued:\n%s", log)
	}
	if d := mem.Dump(); len(d.Stacks) != 0 || len(d.AWSIntegrations) != 0 || len(d.Policies) != 1 || len(d.Dependencies) != 0 || len(d.References) != 0 {
		t.Errorf("after both destroys: %+v; want only the push policy the test made itself", d)
	}
}

// TestTofuImport imports objects that exist only in the backend and
// expects the configuration that describes them to plan no changes.
func TestTofuImport(t *testing.T) {
	t.Parallel()
	mem := slapi.NewMemory()
	mem.SetToken(runToken, managerStack)
	ctx := context.Background()
	st, err := mem.CreateStack(ctx, slapi.StackSpec{Name: "imported", Repository: "r", Branch: "main", Labels: []string{"x"}, SpaceID: "root", ManageState: true, TerraformWorkflowTool: slapi.DefaultWorkflowTool, AdditionalProjectGlobs: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	for name, spec := range map[string]slapi.EnvVarSpec{"PLAIN": {Value: "v"}, "SECRET": {Value: "s3cret", WriteOnly: true}} {
		if _, err := mem.PutEnvVar(ctx, st.ID, name, spec); err != nil {
			t.Fatal(err)
		}
	}
	p, err := mem.CreatePolicy(ctx, slapi.PolicySpec{Name: "imported policy", Type: "TRIGGER", Body: "package spacelift", EngineType: "REGO_V1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mem.AttachPolicy(ctx, p.ID, st.ID); err != nil {
		t.Fatal(err)
	}
	w := newWorkspace(t, mem, map[string]string{"main.tf": `
terraform {
  required_providers {
    spacelift = { source = "registry.terraform.io/spacelift-io/spacelift" }
  }
}
resource "spacelift_stack" "this" {
  name       = "imported"
  repository = "r"
  branch     = "main"
  labels     = ["x"]
}
resource "spacelift_environment_variable" "plain" {
  stack_id   = spacelift_stack.this.id
  name       = "PLAIN"
  value      = "v"
  write_only = false
}
resource "spacelift_environment_variable" "secret" {
  stack_id = spacelift_stack.this.id
  name     = "SECRET"
  value    = "s3cret"
}
resource "spacelift_policy" "this" {
  name        = "imported policy"
  type        = "TRIGGER"
  body        = "package spacelift"
  engine_type = "REGO_V1"
}
resource "spacelift_policy_attachment" "this" {
  policy_id = spacelift_policy.this.id
  stack_id  = spacelift_stack.this.id
}
resource "spacelift_stack_destructor" "this" {
  stack_id = spacelift_stack.this.id
}
`})
	before := len(mem.Log())
	for _, imp := range [][2]string{
		{"spacelift_stack.this", st.ID},
		{"spacelift_environment_variable.plain", "stack/" + st.ID + "/PLAIN"},
		{"spacelift_environment_variable.secret", "stack/" + st.ID + "/SECRET"},
		{"spacelift_policy.this", p.ID},
		{"spacelift_policy_attachment.this", p.ID + "/" + st.ID},
		{"spacelift_stack_destructor.this", "destructor-" + st.ID},
	} {
		w.must(0, "import", "-input=false", imp[0], imp[1])
	}
	// The write-only value cannot be read back: the plan updates it into
	// the state in place (its checksum matches) instead of replacing the
	// variable; everything else is unchanged.
	changes := w.planChanges()
	want := map[string][]string{"spacelift_environment_variable.secret": {"update"}}
	if !mapsEqual(changes, want) {
		t.Errorf("plan after import: %v, want %v", changes, want)
	}
	w.must(0, "apply", "-input=false", "tfplan")
	w.must(0, "plan", "-input=false", "-detailed-exitcode")
	if got := w.state()["spacelift_stack_destructor.this"]["stack_id"]; got != st.ID {
		t.Errorf("imported destructor's stack_id %v, want %s", got, st.ID)
	}
	// Importing, and recording the write-only value, only read.
	if log := mem.Log(); len(log) != before {
		t.Errorf("import wrote to the backend: %q", log[before:])
	}
}

package awsprovider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"preview-environments/previewctl/internal/proctable"
	"preview-environments/previewctl/pkg/managerdir"
	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/service/artifact"
)

// tofuEnv is a real OpenTofu with this package's provider in place of
// hashicorp/aws, pointed at one sandbox.
type tofuEnv struct {
	root, bin, cliConfig string
	sb                   *sandbox.Sandbox
	dataDir              string
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := managerdir.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// Two ways to make OpenTofu run this provider as hashicorp/aws:
//   - devOverrides: a dev_overrides entry (tofu init is then to be skipped:
//     it has nothing to install and fails looking for the provider);
//   - mirror: a filesystem_mirror holding the binary as version 5.100.0, so
//     that tofu init installs it and writes a lock file like any provider
//     (what a module with child modules, such as manager/, needs).
const (
	devOverrides = iota
	mirror
)

// newTofuEnv builds the provider, writes a CLI config that installs it (and
// nothing else), and opens a running sandbox.
func newTofuEnv(t *testing.T, install int) *tofuEnv {
	t.Helper()
	root := repoRoot(t)
	e := &tofuEnv{root: root, bin: filepath.Join(root, "bin", "tofu")}
	if _, err := os.Stat(e.bin); err != nil {
		t.Fatal("bin/tofu is absent: run make tools (make test builds it first); the real-engine test needs it")
	}
	plugins := t.TempDir()
	exe := filepath.Join(plugins, "terraform-provider-aws")
	cfg := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/hashicorp/aws" = %q
  }
  direct {
    exclude = ["*/*/*"]
  }
}
`, plugins)
	if install == mirror {
		dir := filepath.Join(plugins, "registry.terraform.io", "hashicorp", "aws", "5.100.0", runtime.GOOS+"_"+runtime.GOARCH)
		exe = filepath.Join(dir, "terraform-provider-aws_v5.100.0_x5")
		cfg = fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["*/*/*"]
  }
}
`, plugins)
	}
	build := exec.Command("go", "build", "-o", exe, "preview-environments/previewctl/cmd/terraform-provider-aws")
	build.Dir = filepath.Join(root, "previewctl")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the provider: %v\n%s", err, out)
	}
	e.cliConfig = filepath.Join(t.TempDir(), "tofu.rc")
	if err := os.WriteFile(e.cliConfig, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	e.dataDir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	sb, err := sandbox.Open(ctx, sandbox.Config{Addr: "127.0.0.1:0", DataDir: e.dataDir, RIEPath: filepath.Join(root, "bin", "aws-lambda-rie"),
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		cancel()
		t.Fatalf("open sandbox: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- sb.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sandbox: %v", err)
		}
	})
	e.sb = sb
	return e
}

// run runs tofu in dir with vars as TF_VAR_*; it returns the combined output.
func (e *tofuEnv) run(t *testing.T, dir string, vars map[string]string, args ...string) (string, error) {
	t.Helper()
	return e.runWithout(t, dir, vars, nil, args...)
}

// runWithout is run with the environment variables in unset left out.
func (e *tofuEnv) runWithout(t *testing.T, dir string, vars map[string]string, unset []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Dir = dir
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"TF_CLI_CONFIG_FILE=" + e.cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"AWS_ACCESS_KEY_ID=sandbox", "AWS_SECRET_ACCESS_KEY=sandbox",
		"AWS_ENDPOINT_URL_S3=" + e.sb.S3Endpoint(),
		"AWS_ENDPOINT_URL_LAMBDA=" + e.sb.URL() + sandbox.LambdaPrefix,
		"AWS_ENDPOINT_URL_API_GATEWAY=" + e.sb.URL() + sandbox.APIGatewayPrefix,
	}
	for k, v := range vars {
		env = append(env, "TF_VAR_"+k+"="+v)
	}
	cmd.Env = slices.DeleteFunc(env, func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(unset, k)
	})
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (e *tofuEnv) must(t *testing.T, dir string, vars map[string]string, args ...string) string {
	t.Helper()
	start := time.Now()
	out, err := e.run(t, dir, vars, args...)
	if err != nil {
		t.Fatalf("tofu %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("tofu %s: %s", args[0], time.Since(start).Round(time.Millisecond))
	return out
}

// copyTF copies a module's .tf files (not .terraform or state).
func copyTF(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(from, "*.tf"))
	if len(files) == 0 {
		t.Fatalf("no .tf files in %s", from)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

func uploadArtifact(t *testing.T, e *tofuEnv, key, commit string) {
	t.Helper()
	ctx := context.Background()
	a, err := artifact.Build(ctx, artifact.BuildOptions{Version: "latest", Commit: commit, Arch: runtime.GOARCH, SourceDir: filepath.Join(e.root, "service")})
	if err != nil {
		t.Fatalf("build artifact %s: %v", commit, err)
	}
	c, err := artifact.NewS3Client(ctx, artifact.S3Options{Region: "us-east-1", Endpoint: e.sb.S3Endpoint(), PathStyle: true,
		AccessKeyID: "sandbox", SecretAccessKey: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := artifact.Upload(ctx, c, e.sb.Bucket(), key, a.Zip); err != nil {
		t.Fatalf("upload %s: %v", key, err)
	}
}

func getHost(t *testing.T, addr, host, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	req.Header.Set("Accept", "application/json")
	_, port, _ := strings.Cut(addr, ":")
	req.Host = host + ":" + port
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s%s: %v", host, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// TestTofuAppliesInfra applies the repository's real infra/ with the real
// OpenTofu engine and this provider: the environment's host is served by
// its function; a plan right after is empty; a new latest.zip updates only
// the function; an apply that lost its state (tofu killed before saving)
// converges on the sandbox's objects; destroy leaves nothing.
func TestTofuAppliesInfra(t *testing.T) {
	e := newTofuEnv(t, devOverrides)
	const env = "0a1b2c3d"
	commitA, commitB := strings.Repeat("a1", 20), strings.Repeat("b2", 20)
	uploadArtifact(t, e, "latest.zip", commitA)
	dir := copyTF(t, filepath.Join(e.root, "infra"))
	vars := map[string]string{
		"environment": env, "code_version": "latest", "artifact_bucket": e.sb.Bucket(), "domain_name": "hello-service.localhost",
		"certificate_arn": "arn:aws:acm:us-east-1:000000000000:certificate/0b6f0c8e-6a7e-4c1b-9f3c-2f0c8b6f0c8e",
		"hosted_zone_id":  "Z0SANDBOX0000000000", "aws_region": "us-east-1",
	}
	host := env + ".hello-service.localhost"
	// The hello service answers JSON with its commit and the environment ID
	// it got from infra/'s environment variables.
	served := func(commit string) {
		t.Helper()
		for _, p := range []string{"/", "/hello"} {
			code, body := getHost(t, e.sb.Addr(), host, p)
			var hello struct{ Version, Commit, Environment, Message string }
			json.Unmarshal([]byte(body), &hello)
			if code != 200 || hello.Commit != commit || hello.Environment != env || hello.Version != "latest" || hello.Message != "Hello world" {
				t.Fatalf("GET %s%s = %d %q; want 200 from the function of commit %s in environment %s", host, p, code, body, commit, env)
			}
		}
	}

	// A missing endpoint is an error that says which variable to set.
	for _, v := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_LAMBDA"} {
		out, err := e.runWithout(t, dir, vars, []string{v}, "apply", "-auto-approve", "-input=false", "-no-color")
		if err == nil || !strings.Contains(out, v) {
			t.Fatalf("apply without %s (%v): want an error naming it:\n%s", v, err, out)
		}
	}
	if envs := e.sb.Environments(); len(envs) != 0 {
		t.Fatalf("failed applies left environments: %+v", envs)
	}
	os.Remove(filepath.Join(dir, "terraform.tfstate"))

	// No tofu init: with dev_overrides it has nothing to install and fails
	// looking for hashicorp/aws elsewhere (OpenTofu says to skip it), and
	// infra/ has no modules or backend to initialise.
	start := time.Now()
	e.must(t, dir, vars, "apply", "-auto-approve", "-input=false", "-no-color")
	t.Logf("first apply of infra/ (%d resources): %s", 16, time.Since(start).Round(time.Millisecond))
	served(commitA)
	if code, body := getHost(t, e.sb.Addr(), host, "/nope"); code != 403 {
		t.Fatalf("GET /nope = %d %q; want API Gateway's 403 for a route the API does not have", code, body)
	}
	envs := e.sb.Environments()
	if len(envs) != 1 || envs[0].ID != env || envs[0].Service != "hello-service" || envs[0].Version != "latest" ||
		envs[0].URL != sandbox.EnvironmentURL(e.sb.Addr(), env, "hello-service") || strings.Join(envs[0].Routes, ",") != "GET /,GET /hello" {
		t.Fatalf("Environments() = %+v", envs)
	}

	// Applied state matches the configuration: nothing to do.
	if out, err := e.run(t, dir, vars, "plan", "-detailed-exitcode", "-input=false", "-no-color"); err != nil {
		t.Fatalf("plan right after apply is not empty (%v):\n%s", err, out)
	}

	// A new latest.zip is a new object version: the function alone changes.
	uploadArtifact(t, e, "latest.zip", commitB)
	out, err := e.run(t, dir, vars, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(out, "Plan: 0 to add, 1 to change, 0 to destroy.") ||
		!strings.Contains(out, "aws_lambda_function.handler will be updated in-place") {
		t.Fatalf("plan after a new latest.zip (%v): want the function updated in place and nothing else:\n%s", err, out)
	}
	e.must(t, dir, vars, "apply", "-auto-approve", "-input=false", "-no-color")
	served(commitB)

	// tofu killed after the sandbox recorded everything but before the
	// state was saved: the next apply creates again and must converge.
	if err := os.Remove(filepath.Join(dir, "terraform.tfstate")); err != nil {
		t.Fatal(err)
	}
	e.must(t, dir, vars, "apply", "-auto-approve", "-input=false", "-no-color")
	served(commitB)
	if envs := e.sb.Environments(); len(envs) != 1 {
		t.Fatalf("after the re-apply: %d environments, want 1: %+v", len(envs), envs)
	}

	e.must(t, dir, vars, "destroy", "-auto-approve", "-input=false", "-no-color")
	if code, body := getHost(t, e.sb.Addr(), host, "/"); code != 404 {
		t.Fatalf("after destroy GET / = %d %q; want 404", code, body)
	}
	if envs := e.sb.Environments(); len(envs) != 0 {
		t.Fatalf("after destroy: environments %+v", envs)
	}
	if pids, err := proctable.Emulators(e.dataDir); err != nil || len(pids) != 0 {
		t.Fatalf("after destroy: emulators %v (%v)", pids, err)
	}
	for _, table := range []string{"aws_lambda_functions", "aws_lambda_permissions", "apigw_rest_apis", "apigw_deployments", "apigw_domain_names"} {
		var n int
		if err := e.sb.DB().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil || n != 0 {
			t.Errorf("after destroy: %d rows in %s (%v)", n, table, err)
		}
	}
}

// managerACM extracts manager/hello-service's certificate, validation
// records and validation (the resources that use hashicorp/aws) with their
// locals, and declares the variables they reference: the real for_each
// over domain_validation_options, without the Spacelift provider.
func managerACM(t *testing.T, root string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "manager", "hello-service", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclwrite.ParseConfig(src, "main.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	out := hclwrite.NewEmptyFile()
	kept := 0
	for _, b := range f.Body().Blocks() {
		if b.Type() == "locals" || (b.Type() == "resource" && strings.HasPrefix(b.Labels()[0], "aws_")) {
			out.Body().AppendBlock(b)
			out.Body().AppendNewline()
			kept++
		}
	}
	if kept != 4 {
		t.Fatalf("manager/hello-service/main.tf: kept %d blocks (locals and 3 aws resources); has it changed?", kept)
	}
	dir := t.TempDir()
	extra := `
terraform {
  required_providers {
    aws = { source = "registry.terraform.io/hashicorp/aws" }
  }
}

provider "aws" {
  region = "us-east-1"
}

variable "service" { type = string }
variable "preview_domain" { type = string }
variable "hosted_zone_id" { type = string }

output "certificate_arn" { value = aws_acm_certificate_validation.wildcard.certificate_arn }
output "records" { value = { for k, r in aws_route53_record.validation : k => r.fqdn } }
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), append(out.Bytes(), extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestTofuPlansManagerCertificate: manager/'s for_each over the
// certificate's domain_validation_options plans on the first plan (the
// provider computes them when planning), applies, and plans empty after;
// the provider is installed by tofu init from a filesystem mirror.
func TestTofuPlansManagerCertificate(t *testing.T) {
	e := newTofuEnv(t, mirror)
	dir := managerACM(t, e.root)
	vars := map[string]string{"service": "hello-service", "preview_domain": "localhost", "hosted_zone_id": "Z0SANDBOX0000000000"}
	e.must(t, dir, vars, "init", "-input=false", "-no-color")
	if lock, err := os.ReadFile(filepath.Join(dir, ".terraform.lock.hcl")); err != nil || !regexp.MustCompile(`version\s*=\s*"5\.100\.0"`).Match(lock) {
		t.Fatalf("tofu init from the mirror: lock file %q (%v); want hashicorp/aws 5.100.0", lock, err)
	}
	out := e.must(t, dir, vars, "plan", "-input=false", "-no-color")
	if !strings.Contains(out, `aws_route53_record.validation["*.hello-service.localhost"] will be created`) || !strings.Contains(out, "Plan: 3 to add") {
		t.Fatalf("first plan: want the validation record keyed by the certificate's domain:\n%s", out)
	}
	e.must(t, dir, vars, "apply", "-auto-approve", "-input=false", "-no-color")
	outputs := e.must(t, dir, vars, "output", "-no-color")
	if !strings.Contains(outputs, "arn:aws:acm:us-east-1:000000000000:certificate/") || !strings.Contains(outputs, ".hello-service.localhost\"") {
		t.Fatalf("outputs: want the certificate ARN passed through and the record's fqdn:\n%s", outputs)
	}
	if out, err := e.run(t, dir, vars, "plan", "-detailed-exitcode", "-input=false", "-no-color"); err != nil {
		t.Fatalf("plan after apply is not empty (%v):\n%s", err, out)
	}
	e.must(t, dir, vars, "destroy", "-auto-approve", "-input=false", "-no-color")
}

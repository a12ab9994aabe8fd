package awsprovider_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"preview-environments/previewctl/internal/proctable"
	"preview-environments/previewctl/pkg/managerdir"
	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/s3store"
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

// s3Client reaches the sandbox's S3 stand-in as any AWS client would.
func (e *tofuEnv) s3Client(t *testing.T) *s3.Client {
	t.Helper()
	c, err := artifact.NewS3Client(context.Background(), artifact.S3Options{Region: "eu-west-1", Endpoint: e.sb.S3Endpoint(), PathStyle: true,
		AccessKeyID: "sandbox", SecretAccessKey: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTofuAppliesData applies a copy of the real infra/data (the data
// stack) with the real OpenTofu engine: a bucket named from its prefix and
// the greeting object in the S3 stand-in; an empty plan after; a new
// greeting.txt is one in-place update of the object with a new ETag; a
// change of the default tags updates both in place (nothing is replaced);
// destroy deletes the bucket although it holds an object OpenTofu does not
// manage (force_destroy), and leaves nothing.
func TestTofuAppliesData(t *testing.T) {
	e := newTofuEnv(t, devOverrides)
	src := filepath.Join(e.root, "infra", "data")
	dir := copyTF(t, src)
	greeting, err := os.ReadFile(filepath.Join(src, "greeting.txt"))
	if err != nil {
		t.Fatal(err)
	}
	writeGreeting := func(s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "greeting.txt"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeGreeting(string(greeting))
	const env = "0a1b2c3d"
	vars := map[string]string{"environment": env, "aws_region": "eu-west-1"}
	type outputs struct {
		Bucket, GreetingKey, GreetingEtag string
	}
	read := func() outputs {
		t.Helper()
		var raw map[string]struct{ Value string }
		if err := json.Unmarshal([]byte(e.must(t, dir, vars, "output", "-json")), &raw); err != nil {
			t.Fatal(err)
		}
		return outputs{raw["bucket"].Value, raw["greeting_key"].Value, raw["greeting_etag"].Value}
	}
	stored := func(o outputs) string {
		t.Helper()
		b, err := e.sb.S3().Get(context.Background(), o.Bucket, o.GreetingKey, 1<<20)
		if err != nil {
			t.Fatalf("the greeting object in the S3 stand-in: %v", err)
		}
		return string(b)
	}
	md5hex := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }

	e.must(t, dir, vars, "apply", "-auto-approve", "-input=false", "-no-color")
	first := read()
	if !regexp.MustCompile(`^preview-`+env+`-\d{18}[0-9a-f]{8}$`).MatchString(first.Bucket) || len(first.Bucket) > 63 {
		t.Fatalf("bucket %q: want preview-%s- and the 26-character unique suffix", first.Bucket, env)
	}
	want := strings.TrimSpace(string(greeting))
	if got := stored(first); got != want || first.GreetingKey != "greeting.txt" || first.GreetingEtag != md5hex(want) {
		t.Fatalf("object %q, outputs %+v; want %q with the ETag %s", got, first, want, md5hex(want))
	}
	ctx := context.Background()
	head, err := e.s3Client(t).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(first.Bucket), Key: aws.String(first.GreetingKey)})
	if err != nil || aws.ToString(head.ContentType) != "text/plain; charset=utf-8" {
		t.Fatalf("HeadObject: content type %q (%v); want infra/data's", aws.ToString(head.ContentType), err)
	}
	if out, err := e.run(t, dir, vars, "plan", "-detailed-exitcode", "-input=false", "-no-color"); err != nil {
		t.Fatalf("plan right after apply is not empty (%v):\n%s", err, out)
	}

	// A new greeting: the object alone, updated in place.
	writeGreeting("Hello from the data stack\n")
	out, err := e.run(t, dir, vars, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(out, "Plan: 0 to add, 1 to change, 0 to destroy.") ||
		!strings.Contains(out, "aws_s3_object.greeting will be updated in-place") {
		t.Fatalf("plan after a new greeting.txt (%v): want the object updated in place and nothing else:\n%s", err, out)
	}
	e.must(t, dir, vars, "apply", "-auto-approve", "-input=false", "-no-color")
	second := read()
	if got := stored(second); got != "Hello from the data stack" || second.Bucket != first.Bucket ||
		second.GreetingEtag == first.GreetingEtag || second.GreetingEtag != md5hex("Hello from the data stack") {
		t.Fatalf("after the update: object %q, outputs %+v (before %+v); want the new greeting under a new ETag in the same bucket", got, second, first)
	}

	// Other default tags change tags_all: both update in place, the
	// bucket's name (computed, forcing replacement) stays.
	vars["service"] = "other-service"
	out, err = e.run(t, dir, vars, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(out, "Plan: 0 to add, 2 to change, 0 to destroy.") {
		t.Fatalf("plan after new default tags (%v): want both updated in place:\n%s", err, out)
	}
	e.must(t, dir, vars, "apply", "-auto-approve", "-input=false", "-no-color")
	if read().Bucket != first.Bucket {
		t.Fatal("new default tags replaced the bucket")
	}

	// An object OpenTofu does not know: force_destroy deletes it with the bucket.
	if err := e.sb.S3().Put(first.Bucket, "uploaded-by-the-service.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	e.must(t, dir, vars, "destroy", "-auto-approve", "-input=false", "-no-color")
	if _, err := e.s3Client(t).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(first.Bucket)}); err == nil {
		t.Fatalf("after destroy: bucket %s still exists", first.Bucket)
	}
	if _, err := e.sb.S3().Get(ctx, first.Bucket, first.GreetingKey, 1<<20); !errors.Is(err, s3store.ErrNotFound) {
		t.Fatalf("after destroy: greeting object: %v; want not found", err)
	}
}

// TestTofuUpdatesInPlace: changing a configured attribute of a resource
// whose other attributes are computed and force replacement (a bucket's
// name from its prefix, a role policy's name_prefix) updates it in place,
// as the real provider does: infra/'s read-greeting policy follows a new
// object without being replaced, and force_destroy can be turned on before
// a destroy. Without force_destroy, destroying a bucket that holds objects
// fails with S3's BucketNotEmpty.
func TestTofuUpdatesInPlace(t *testing.T) {
	e := newTofuEnv(t, devOverrides)
	dir := t.TempDir()
	hcl := func(forceDestroy bool, object string) {
		t.Helper()
		src := fmt.Sprintf(`
terraform {
  required_providers {
    aws = { source = "registry.terraform.io/hashicorp/aws" }
  }
}

provider "aws" {
  region = "eu-west-1"
}

resource "aws_s3_bucket" "data" {
  bucket_prefix = "preview-0a1b2c3d-"
  force_destroy = %t
}

resource "aws_iam_role" "function" {
  name               = "preview-hello-service-0a1b2c3d"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [] })
}

resource "aws_iam_role_policy" "greeting" {
  name = "read-greeting"
  role = aws_iam_role.function.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["s3:GetObject"], Resource = "arn:aws:s3:::${aws_s3_bucket.data.id}/%s" }]
  })
}
`, forceDestroy, object)
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inPlace := func(what, want string) {
		t.Helper()
		out, err := e.run(t, dir, nil, "plan", "-detailed-exitcode", "-input=false", "-no-color")
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(out, want) {
			t.Fatalf("plan after %s (%v): want %q:\n%s", what, err, want, out)
		}
		e.must(t, dir, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	}
	hcl(false, "greeting.txt")
	e.must(t, dir, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	hcl(false, "other.txt")
	inPlace("a new policy document", "Plan: 0 to add, 1 to change, 0 to destroy.")

	var bucket string
	state := e.must(t, dir, nil, "state", "show", "-no-color", "aws_s3_bucket.data")
	if m := regexp.MustCompile(`(?m)^\s+bucket\s+= "([^"]+)"`).FindStringSubmatch(state); m != nil {
		bucket = m[1]
	} else {
		t.Fatalf("no bucket name in the state:\n%s", state)
	}
	if err := e.sb.S3().Put(bucket, "left-behind.txt", []byte("x")); err != nil {
		t.Fatal(err)
	}
	out, err := e.run(t, dir, nil, "destroy", "-auto-approve", "-input=false", "-no-color")
	if err == nil || !strings.Contains(out, "BucketNotEmpty") || !strings.Contains(out, "force_destroy") {
		t.Fatalf("destroy of a bucket holding an object without force_destroy (%v): want S3's BucketNotEmpty and a word on force_destroy:\n%s", err, out)
	}
	// The role and its policy went before the bucket refused.
	hcl(true, "other.txt")
	inPlace("force_destroy = true", "Plan: 2 to add, 1 to change, 0 to destroy.")
	e.must(t, dir, nil, "destroy", "-auto-approve", "-input=false", "-no-color")
	if _, err := e.s3Client(t).HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		t.Fatalf("after destroy: bucket %s still exists", bucket)
	}
}

// TestTofuAppliesBothStacks: the two stacks of an environment as the
// manager wires them: infra/data first, then infra/ with its outputs as
// greeting_bucket and greeting_key. The function reads the greeting from
// the data bucket at request time, so a new greeting.txt applied to the
// data stack alone is served within the service's one-second cache, with
// no change to the service stack.
func TestTofuAppliesBothStacks(t *testing.T) {
	e := newTofuEnv(t, devOverrides)
	const env = "0a1b2c3d"
	commit := strings.Repeat("c3", 20)
	uploadArtifact(t, e, "latest.zip", commit)
	data := copyTF(t, filepath.Join(e.root, "infra", "data"))
	writeGreeting := func(s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(data, "greeting.txt"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeGreeting("Hello from the data stack\n")
	dataVars := map[string]string{"environment": env, "aws_region": "us-east-1"}
	e.must(t, data, dataVars, "apply", "-auto-approve", "-input=false", "-no-color")
	var outs map[string]struct{ Value string }
	if err := json.Unmarshal([]byte(e.must(t, data, dataVars, "output", "-json")), &outs); err != nil {
		t.Fatal(err)
	}

	svc := copyTF(t, filepath.Join(e.root, "infra"))
	vars := map[string]string{
		"environment": env, "code_version": "latest", "artifact_bucket": e.sb.Bucket(), "domain_name": "hello-service.localhost",
		"certificate_arn": "arn:aws:acm:us-east-1:000000000000:certificate/0b6f0c8e-6a7e-4c1b-9f3c-2f0c8b6f0c8e",
		"hosted_zone_id":  "Z0SANDBOX0000000000", "aws_region": "us-east-1",
		"greeting_bucket": outs["bucket"].Value, "greeting_key": outs["greeting_key"].Value,
	}
	e.must(t, svc, vars, "apply", "-auto-approve", "-input=false", "-no-color")
	host := env + ".hello-service.localhost"
	served := func(want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			code, body := getHost(t, e.sb.Addr(), host, "/hello")
			var hello struct{ Version, Commit, Environment, Message string }
			json.Unmarshal([]byte(body), &hello)
			if code == 200 && hello.Message == want && hello.Commit == commit && hello.Environment == env {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s/hello = %d %q; want the message %q", host, code, body, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	served("Hello from the data stack")

	writeGreeting("Hello again")
	e.must(t, data, dataVars, "apply", "-auto-approve", "-input=false", "-no-color")
	served("Hello again")
	if out, err := e.run(t, svc, vars, "plan", "-detailed-exitcode", "-input=false", "-no-color"); err != nil {
		t.Fatalf("the service stack has changes after a greeting change (%v):\n%s", err, out)
	}

	e.must(t, svc, vars, "destroy", "-auto-approve", "-input=false", "-no-color")
	e.must(t, data, dataVars, "destroy", "-auto-approve", "-input=false", "-no-color")
	if envs := e.sb.Environments(); len(envs) != 0 {
		t.Fatalf("after destroy: environments %+v", envs)
	}
}

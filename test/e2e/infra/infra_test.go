package infra_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/gruntwork-io/terratest/modules/terraform"

	"preview-environments/service/artifact"
	"preview-environments/test/e2e"
	"preview-environments/test/e2e/cloud"
	"preview-environments/test/e2e/infra"
)

// TestInfraApply applies infra/ for a temporary environment with a freshly
// built and uploaded artifact, checks that the custom domain and the stage
// URL serve that artifact's version, and always destroys (t.Cleanup, also
// when the apply itself failed half-way).
func TestInfraApply(t *testing.T) {
	e2e.SkipUnlessEnv(t, "infra direct apply", infra.Vars...)
	binary, err := infra.Binary(exec.LookPath)
	if err != nil {
		t.Fatal(err)
	}
	root, err := infra.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	stateDir, err := e2e.StateDir()
	if err != nil {
		t.Fatal(err)
	}
	runID := e2e.UniqueID()
	envID := e2e.EnvironmentIDFor(runID)
	version := infra.ArtifactVersion(runID)
	service := os.Getenv("E2E_SERVICE")
	if service == "" {
		service = "hello-service"
	}
	vars, err := infra.TerraformVars(os.Getenv, envID, service, version)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()

	// 1. A real artifact, built from service/ and uploaded where infra/
	// reads it.
	a, err := artifact.Build(ctx, artifact.BuildOptions{Version: version, SourceDir: filepath.Join(root, "service")})
	if err != nil {
		t.Fatal(err)
	}
	s3c, err := artifact.NewS3Client(ctx, artifact.S3Options{Region: vars["aws_region"]})
	if err != nil {
		t.Fatal(err)
	}
	key, err := artifact.Key(version)
	if err != nil {
		t.Fatal(err)
	}
	bucket := vars["artifact_bucket"]

	// 2. The state record first: from here on an interrupted run leaves
	// something `make e2e-cleanup` can find.
	work := infra.WorkDir(stateDir, runID)
	st := e2e.State{RunID: runID, Suite: "infra", Backend: "cloud", Created: time.Now().UTC(), TerraformDir: work, TerraformVars: vars}
	if _, err := e2e.SaveState(stateDir, st); err != nil {
		t.Fatal(err)
	}
	if _, err := infra.CopyModule(filepath.Join(root, "infra"), work); err != nil {
		t.Fatal(err)
	}
	opts := infra.Options(t, binary, work, vars)
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer ccancel()
		if err := destroy(cctx, t, opts, s3c, bucket, key); err != nil {
			t.Errorf("cleanup of run %s failed: %v\nstate kept in %s: run make e2e-cleanup", runID, err, stateDir)
			return
		}
		if err := os.RemoveAll(work); err != nil {
			t.Error(err)
		}
		if err := e2e.RemoveState(stateDir, st); err != nil {
			t.Error(err)
		}
	})

	up, err := artifact.Upload(ctx, s3c, bucket, key, a.Zip)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("artifact %s (%d bytes, sha256 %s)", up.URI(), len(a.Zip), a.SHA256Hex)

	// 3. Apply and check.
	if _, err := terraform.InitAndApplyE(t, opts); err != nil {
		t.Fatalf("%s apply of infra/ for environment %s: %v", binary, envID, err)
	}
	outputs := map[string]string{}
	for _, name := range []string{"url", "invoke_url", "function_name", "log_group"} {
		v, err := terraform.OutputE(t, opts, name)
		if err != nil {
			t.Fatalf("output %s: %v", name, err)
		}
		outputs[name] = v
	}
	wantFn := cloud.FunctionName(service, envID)
	if outputs["function_name"] != wantFn {
		t.Errorf("function_name = %q, want %q (the name the lifecycle's gone-check looks for)", outputs["function_name"], wantFn)
	}
	if want := cloud.URL(vars["domain_name"], envID); outputs["url"] != want {
		t.Errorf("url = %q, want %q (the lifecycle's endpoint)", outputs["url"], want)
	}
	stage := strings.TrimRight(outputs["invoke_url"], "/")
	for _, u := range []string{stage + "/", stage + "/hello", outputs["url"], strings.TrimRight(outputs["url"], "/") + "/hello"} {
		if last, err := e2e.WaitServes(ctx, t, e2e.Endpoint{URL: u}, version, infra.ServeBudget, infra.Poll); err != nil {
			t.Errorf("%v\nlast HTTP response: %s", err, last)
		}
	}
}

// destroy runs terraform destroy, checks the function is really gone, and
// deletes the uploaded artifact.
func destroy(ctx context.Context, t *testing.T, opts *terraform.Options, s3c *s3.Client, bucket, key string) error {
	if _, err := os.Stat(filepath.Join(opts.TerraformDir, "terraform.tfstate")); os.IsNotExist(err) {
		// Apply never started: nothing to destroy, and a destroy would fail
		// reading an artifact that may never have been uploaded.
		return deleteArtifact(ctx, s3c, bucket, key)
	}
	if _, err := terraform.InitE(t, opts); err != nil {
		return fmt.Errorf("init before destroy: %w", err)
	}
	if _, err := terraform.DestroyE(t, opts); err != nil {
		return fmt.Errorf("destroy: %w", err)
	}
	region, _ := opts.Vars["aws_region"].(string)
	env, _ := opts.Vars["environment"].(string)
	svc, _ := opts.Vars["service"].(string)
	if err := e2e.WaitUntil(ctx, t, "function deleted", infra.GoneBudget, 5*time.Second, func() error {
		return cloud.FunctionGone(ctx, region, cloud.FunctionName(svc, env))
	}); err != nil {
		return err
	}
	return deleteArtifact(ctx, s3c, bucket, key)
}

func deleteArtifact(ctx context.Context, s3c *s3.Client, bucket, key string) error {
	if s3c == nil {
		return nil
	}
	// The bucket is versioned: this leaves a delete marker; the bucket's
	// lifecycle rules expire the noncurrent version.
	if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("delete s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// TestCleanupLeftovers destroys what interrupted infra runs left (with
// E2E_CLEANUP=1); otherwise it lists them.
func TestCleanupLeftovers(t *testing.T) {
	stateDir, err := e2e.StateDir()
	if err != nil {
		t.Fatal(err)
	}
	states, errs := e2e.LoadStates(stateDir)
	for _, err := range errs {
		t.Error(err)
	}
	var mine []e2e.State
	for _, st := range states {
		if st.Suite == "infra" {
			mine = append(mine, st)
		}
	}
	if len(mine) == 0 {
		t.Logf("no infra leftovers in %s", stateDir)
		return
	}
	if !e2e.CleanupRequested() {
		for _, st := range mine {
			t.Logf("leftover: run %s, environment %s in %s (since %s): run make e2e-cleanup", st.RunID, st.TerraformVars["environment"], st.TerraformDir, st.Created.Format(time.RFC3339))
		}
		return
	}
	e2e.SkipUnlessEnv(t, "infra cleanup", e2e.AWSCredentials)
	binary, err := infra.Binary(exec.LookPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range mine {
		want := infra.WorkDir(stateDir, st.RunID)
		if filepath.Clean(st.TerraformDir) != want {
			t.Errorf("run %s: state names work dir %q, want %q: not touching it", st.RunID, st.TerraformDir, want)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		opts := infra.Options(t, binary, want, st.TerraformVars)
		var s3c *s3.Client
		key, kerr := artifact.Key(st.TerraformVars["code_version"])
		if kerr == nil {
			s3c, kerr = artifact.NewS3Client(ctx, artifact.S3Options{Region: st.TerraformVars["aws_region"]})
		}
		if kerr != nil {
			t.Logf("run %s: not deleting the artifact: %v", st.RunID, kerr)
			s3c = nil
		}
		err := destroy(ctx, t, opts, s3c, st.TerraformVars["artifact_bucket"], key)
		cancel()
		if err == nil {
			err = os.RemoveAll(want)
		}
		if err == nil {
			err = e2e.RemoveState(stateDir, st)
		}
		if err != nil {
			t.Errorf("run %s: %v", st.RunID, err)
			continue
		}
		t.Logf("run %s: destroyed environment %s", st.RunID, st.TerraformVars["environment"])
	}
}

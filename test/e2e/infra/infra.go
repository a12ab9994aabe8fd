// Package infra is the direct infra suite's plumbing: a private copy of
// infra/ per run (so its state file outlives an interrupted test), the
// terratest options that apply it with OpenTofu, and a real artifact for it.
package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/gruntwork-io/terratest/modules/terraform"
	tttesting "github.com/gruntwork-io/terratest/modules/testing"

	"preview-environments/test/e2e"
)

// Vars are what the suite needs, besides AWS credentials: the artifact
// bucket (versioned) and the DNS pieces the manager normally provides.
var Vars = []e2e.Var{
	e2e.Env("E2E_ARTIFACT_BUCKET"), e2e.Env("E2E_PREVIEW_DOMAIN"), e2e.Env("E2E_CERTIFICATE_ARN"), e2e.Env("E2E_HOSTED_ZONE_ID"),
	e2e.AWSCredentials,
}

// Timeouts and retry budgets of the suite.
const (
	// ServeBudget: a fresh regional custom domain plus its Route 53 alias
	// usually answers within 1-3 minutes of apply; 10 covers slow DNS.
	ServeBudget = 10 * time.Minute
	// Poll between two GETs while waiting; the URL changes in minutes.
	Poll = 10 * time.Second
	// GoneBudget: Lambda's GetFunction is consistent within seconds of
	// DeleteFunction returning.
	GoneBudget = time.Minute
	// ApplyRetries: transient AWS errors (throttling, IAM role propagation
	// to Lambda) that terratest's default list recognises get three tries.
	ApplyRetries = 3
	// ApplyRetryWait: IAM propagation settles in ~10 s.
	ApplyRetryWait = 15 * time.Second
)

// Binary is "tofu" when lookPath (exec.LookPath) finds it (make puts bin/
// first), else "terraform". An error when neither is: run make tools.
func Binary(lookPath func(string) (string, error)) (string, error) {
	for _, b := range []string{"tofu", "terraform"} {
		if _, err := lookPath(b); err == nil {
			return b, nil
		}
	}
	return "", fmt.Errorf("neither tofu nor terraform is on PATH: run make tools (it builds bin/tofu)")
}

// RepoRoot is the monorepo's root (the test module's parent).
func RepoRoot() (string, error) {
	m, err := e2e.ModuleDir()
	if err != nil {
		return "", err
	}
	return filepath.Dir(m), nil
}

// CopyModule copies the *.tf files of src into dst (created). Only regular
// .tf files: no .terraform/, no state, no symlinks to follow out of src.
func CopyModule(src, dst string) ([]string, error) {
	entries, err := os.ReadDir(src)
	if err != nil {
		return nil, fmt.Errorf("read module %s: %w", src, err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	var copied []string
	for _, e := range entries {
		if !e.Type().IsRegular() || filepath.Ext(e.Name()) != ".tf" {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return nil, err
		}
		copied = append(copied, e.Name())
	}
	if len(copied) == 0 {
		return nil, fmt.Errorf("module %s has no .tf files", src)
	}
	sort.Strings(copied)
	return copied, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	return nil
}

// WorkDir is run runID's private copy of infra/, inside the state dir so
// `make e2e-cleanup` finds it next to the state file.
func WorkDir(stateDir, runID string) string {
	return filepath.Join(stateDir, "work", "infra-"+runID)
}

// ArtifactVersion is a 40-hex code_version unique to the run: it never names
// a real commit, so the suite never overwrites a real artifact in a shared
// bucket, and parallel runs never share one.
func ArtifactVersion(runID string) string {
	sum := sha256.Sum256([]byte("e2e-artifact/" + runID))
	return hex.EncodeToString(sum[:])[:40]
}

var (
	zoneRe = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	certRe = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$`)
)

// TerraformVars are infra/'s variables (names from infra/variables.tf) for
// one run, from the environment. Values are validated here too, so a typo
// fails before anything is created, naming the variable.
func TerraformVars(getenv func(string) string, envID, service, version string) (map[string]string, error) {
	v := map[string]string{
		"environment":        envID,
		"service":            service,
		"code_version":       version,
		"artifact_bucket":    getenv("E2E_ARTIFACT_BUCKET"),
		"domain_name":        strings.ToLower(getenv("E2E_PREVIEW_DOMAIN")),
		"certificate_arn":    getenv("E2E_CERTIFICATE_ARN"),
		"hosted_zone_id":     getenv("E2E_HOSTED_ZONE_ID"),
		"log_retention_days": "1", // a test's logs are read during the run or never
	}
	if r := getenv("AWS_REGION"); r != "" {
		v["aws_region"] = r
	}
	if !zoneRe.MatchString(v["hosted_zone_id"]) {
		return nil, fmt.Errorf("E2E_HOSTED_ZONE_ID %q is not a Route 53 zone ID (Z...)", v["hosted_zone_id"])
	}
	if !certRe.MatchString(v["certificate_arn"]) {
		return nil, fmt.Errorf("E2E_CERTIFICATE_ARN %q is not an ACM certificate ARN", v["certificate_arn"])
	}
	if !regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`).MatchString(v["artifact_bucket"]) {
		return nil, fmt.Errorf("E2E_ARTIFACT_BUCKET %q is not an S3 bucket name", v["artifact_bucket"])
	}
	if !regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`).MatchString(v["domain_name"]) {
		return nil, fmt.Errorf("E2E_PREVIEW_DOMAIN %q is not a domain such as hello-service.preview.example.com", v["domain_name"])
	}
	return v, nil
}

// Options are terratest's options for applying dir with vars.
func Options(t tttesting.TestingT, binary, dir string, vars map[string]string) *terraform.Options {
	tv := map[string]interface{}{}
	for k, v := range vars {
		tv[k] = v
	}
	env := map[string]string{
		"CHECKPOINT_DISABLE": "1",
		// make points TF_CLI_CONFIG_FILE at an offline-only provider mirror
		// for its checks; a real apply installs the provider from the
		// registry unless E2E_TF_CLI_CONFIG_FILE names a config (empty means
		// tofu's defaults).
		"TF_CLI_CONFIG_FILE": os.Getenv("E2E_TF_CLI_CONFIG_FILE"),
	}
	o := &terraform.Options{
		TerraformBinary:    binary,
		TerraformDir:       dir,
		Vars:               tv,
		EnvVars:            env,
		NoColor:            true,
		MaxRetries:         ApplyRetries,
		TimeBetweenRetries: ApplyRetryWait,
	}
	return terraform.WithDefaultRetryableErrors(t, o)
}

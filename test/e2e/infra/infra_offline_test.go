package infra

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"preview-environments/service/artifact"
	"preview-environments/test/e2e"
)

func TestBinary(t *testing.T) {
	tests := []struct {
		onPath []string
		want   string
	}{
		{[]string{"tofu", "terraform"}, "tofu"},
		{[]string{"tofu"}, "tofu"},
		{[]string{"terraform"}, "terraform"},
		{nil, ""},
	}
	for _, tt := range tests {
		look := func(name string) (string, error) {
			for _, p := range tt.onPath {
				if p == name {
					return "/bin/" + name, nil
				}
			}
			return "", errors.New("not found")
		}
		got, err := Binary(look)
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("Binary with %v = %q, %v; want %q", tt.onPath, got, err, tt.want)
		}
		if err != nil && !strings.Contains(err.Error(), "run make tools") {
			t.Errorf("error %q does not say run make tools", err)
		}
	}
}

func TestCopyModuleCopiesOnlyTerraform(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	for name, body := range map[string]string{"main.tf": "# main\n", "variables.tf": "# vars\n", "README.md": "x", "terraform.tfstate": "{}"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(src, ".terraform"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "infra", "main.tf"), filepath.Join(src, "linked.tf")); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "work")
	got, err := CopyModule(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "main.tf,variables.tf" {
		t.Errorf("copied %v, want main.tf and variables.tf only (no state, no README, no symlink)", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "main.tf")); string(b) != "# main\n" {
		t.Errorf("main.tf copied as %q", b)
	}
	if _, err := CopyModule(filepath.Join(src, ".terraform"), dst); err == nil {
		t.Error("copying a folder without .tf files succeeded")
	}
	// The real infra/ copies completely.
	real, err := CopyModule(filepath.Join(root, "infra"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"main.tf", "outputs.tf", "variables.tf", "versions.tf"} {
		if !slices.Contains(real, f) {
			t.Errorf("infra/ copy lacks %s (got %v)", f, real)
		}
	}
}

func TestArtifactVersion(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		v := ArtifactVersion(e2e.UniqueID())
		if err := artifact.ValidateVersion(v); err != nil || !artifact.IsCommit(v) {
			t.Fatalf("ArtifactVersion = %q: %v (want a 40-hex version the packager accepts)", v, err)
		}
		seen[v] = true
	}
	if len(seen) < 50 {
		t.Errorf("%d distinct versions in 50 runs", len(seen))
	}
}

var goodEnv = map[string]string{
	"E2E_ARTIFACT_BUCKET": "acme-preview-artifacts",
	"E2E_PREVIEW_DOMAIN":  "Hello-Service.preview.example.com",
	"E2E_CERTIFICATE_ARN": "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
	"E2E_HOSTED_ZONE_ID":  "Z0123456789ABCDEFGHIJ",
	"AWS_REGION":          "eu-west-1",
}

// TestTerraformVarsMatchInfra checks the suite against infra/variables.tf,
// the source of truth: every variable passed is declared, and every
// declared variable without a default is passed.
func TestTerraformVarsMatchInfra(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(root, "infra", "variables.tf"))
	if err != nil {
		t.Fatal(err)
	}
	vars, err := TerraformVars(func(k string) string { return goodEnv[k] }, "1a2b3c4d", "hello-service", ArtifactVersion("x"))
	if err != nil {
		t.Fatal(err)
	}
	if vars["domain_name"] != "hello-service.preview.example.com" {
		t.Errorf("domain_name = %q, want it lower-cased", vars["domain_name"])
	}
	blocks := regexp.MustCompile(`(?m)^variable "([a-z_]+)" \{`).FindAllStringSubmatchIndex(string(src), -1)
	declared := map[string]bool{}
	for i, m := range blocks {
		name := string(src[m[2]:m[3]])
		end := len(src)
		if i+1 < len(blocks) {
			end = blocks[i+1][0]
		}
		hasDefault := regexp.MustCompile(`(?m)^\s+default\s*=`).Match(src[m[0]:end])
		declared[name] = true
		if _, ok := vars[name]; !ok && !hasDefault {
			t.Errorf("infra/ variable %q has no default and the suite does not set it", name)
		}
	}
	if len(declared) == 0 {
		t.Fatal("no variables found in infra/variables.tf")
	}
	for name := range vars {
		if !declared[name] {
			t.Errorf("the suite sets %q, which infra/variables.tf does not declare", name)
		}
	}
}

func TestTerraformVarsRejectBadInput(t *testing.T) {
	tests := []struct{ key, value string }{
		{"E2E_HOSTED_ZONE_ID", "zone-1"},
		{"E2E_CERTIFICATE_ARN", "arn:aws:iam::123456789012:role/x"},
		{"E2E_ARTIFACT_BUCKET", "Bad_Bucket"},
		{"E2E_PREVIEW_DOMAIN", "example.com/\"x"},
		{"E2E_PREVIEW_DOMAIN", ""},
	}
	for _, tt := range tests {
		env := map[string]string{}
		for k, v := range goodEnv {
			env[k] = v
		}
		env[tt.key] = tt.value
		_, err := TerraformVars(func(k string) string { return env[k] }, "1a2b3c4d", "hello-service", ArtifactVersion("x"))
		if err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%s=%q: err = %v, want it to name %s", tt.key, tt.value, err, tt.key)
		}
	}
}

// Package cloud is the lifecycle's real backend: a scratch GitHub repository
// that runs this monorepo's preview workflows (go-github), the Spacelift
// account its manager stack lives in (GraphQL over net/http), and the AWS
// account the environments deploy to (aws-sdk-go-v2).
package cloud

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/test/e2e"
)

// Config is read from the environment; see test/README.md.
type Config struct {
	GitHubToken      string // GITHUB_TOKEN: contents + pull requests write on the scratch repository
	Repository       string // E2E_GITHUB_REPOSITORY: owner/repo, a fork of this monorepo wired to Spacelift
	GitHubAPIURL     string // E2E_GITHUB_API_URL: GitHub Enterprise API URL (optional)
	SpaceliftURL     string // SPACELIFT_API_KEY_ENDPOINT
	SpaceliftKeyID   string // SPACELIFT_API_KEY_ID
	SpaceliftSecret  string // SPACELIFT_API_KEY_SECRET
	PreviewDomain    string // E2E_PREVIEW_DOMAIN: infra's domain_name, e.g. hello-service.preview.example.com
	Service          string // E2E_SERVICE: default hello-service
	AWSRegion        string // AWS_REGION (optional: the SDK's default chain otherwise)
	ServiceChangeDir string // folder the PR changes: service/ (so code_version = head sha)
}

// LifecycleVars are what the lifecycle suite needs.
var LifecycleVars = []e2e.Var{
	e2e.Env("GITHUB_TOKEN"), e2e.Env("E2E_GITHUB_REPOSITORY"), e2e.Env("E2E_PREVIEW_DOMAIN"),
	e2e.Env("SPACELIFT_API_KEY_ENDPOINT"), e2e.Env("SPACELIFT_API_KEY_ID"), e2e.Env("SPACELIFT_API_KEY_SECRET"),
	e2e.AWSCredentials,
}

var (
	repoRe    = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)
	domainRe  = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	serviceRe = regexp.MustCompile(`^[a-z][a-z0-9-]{0,38}[a-z0-9]$`)
)

// ConfigFromEnv reads and validates the configuration; every error names
// the variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		GitHubToken:      getenv("GITHUB_TOKEN"),
		Repository:       getenv("E2E_GITHUB_REPOSITORY"),
		GitHubAPIURL:     getenv("E2E_GITHUB_API_URL"),
		SpaceliftURL:     getenv("SPACELIFT_API_KEY_ENDPOINT"),
		SpaceliftKeyID:   getenv("SPACELIFT_API_KEY_ID"),
		SpaceliftSecret:  getenv("SPACELIFT_API_KEY_SECRET"),
		PreviewDomain:    strings.ToLower(getenv("E2E_PREVIEW_DOMAIN")),
		Service:          getenv("E2E_SERVICE"),
		AWSRegion:        getenv("AWS_REGION"),
		ServiceChangeDir: "service/e2e",
	}
	if c.Service == "" {
		c.Service = "hello-service"
	}
	if m := e2e.Missing(getenv, LifecycleVars...); len(m) > 0 {
		return c, fmt.Errorf("cloud backend: missing %s", strings.Join(m, ", "))
	}
	if !repoRe.MatchString(c.Repository) {
		return c, fmt.Errorf("E2E_GITHUB_REPOSITORY %q is not owner/repo", c.Repository)
	}
	if !domainRe.MatchString(c.PreviewDomain) {
		return c, fmt.Errorf("E2E_PREVIEW_DOMAIN %q is not a lowercase domain such as hello-service.preview.example.com", c.PreviewDomain)
	}
	if !serviceRe.MatchString(c.Service) {
		return c, fmt.Errorf("E2E_SERVICE %q is not a DNS label such as hello-service", c.Service)
	}
	return c, nil
}

// FromOSEnv is ConfigFromEnv(os.Getenv).
func FromOSEnv() (Config, error) { return ConfigFromEnv(os.Getenv) }

// OwnerRepo splits Repository.
func (c Config) OwnerRepo() (string, string) {
	owner, repo, _ := strings.Cut(c.Repository, "/")
	return owner, repo
}

// EnvironmentID is the PR's environment ID, from the one model of an
// environment (previewctl/pkg/envfile), so the suite looks where the
// platform deploys.
func EnvironmentID(owner, repo string, number int) string { return envfile.ID(owner, repo, number) }

// FunctionName is infra/'s Lambda function name for an environment.
func FunctionName(service, id string) string { return "preview-" + service + "-" + id }

// StackLabel is the label the manager template puts on an environment's
// stack.
func StackLabel(id string) string { return "preview_environment_id:" + id }

// URL is where infra/ serves an environment: https://<id>.<domain_name>/.
func URL(domain, id string) string { return "https://" + id + "." + domain + "/" }

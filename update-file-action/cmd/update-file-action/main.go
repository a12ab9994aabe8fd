// Command update-file-action is the GitHub Action's entry point: it reads the
// action's inputs (INPUT_* variables), runs updatefile.Apply and writes the
// outputs to $GITHUB_OUTPUT. Failures are ::error annotations and exit 1.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/sethvargo/go-githubactions"

	"preview-environments/update-file-action/updatefile"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	action := githubactions.New()
	if err := run(ctx, action); err != nil {
		action.Errorf("%s", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, action *githubactions.Action) error {
	token := action.GetInput("github-token")
	if token == "" {
		return errors.New("input github-token is empty")
	}
	// Registered first, so nothing printed later can show it.
	action.AddMask(token)
	if action.Getenv("GITHUB_OUTPUT") == "" {
		return errors.New("GITHUB_OUTPUT is not set: run this as a step of a GitHub Actions job")
	}

	req, err := request(action)
	if err != nil {
		return err
	}
	client, err := newClient(action.GetInput("api-url"), token)
	if err != nil {
		return err
	}
	req.Backoff.OnRetry = func(attempt int, wait time.Duration, cause error) {
		action.Warningf("attempt %d of %s did not land (%v); retrying in %s", attempt, req.Path, cause, wait.Round(time.Millisecond))
	}
	res, err := updatefile.Apply(ctx, client, req)
	if err != nil {
		return err
	}
	action.SetOutput("operation", string(res.Operation))
	action.SetOutput("commit-sha", res.CommitSHA)
	action.SetOutput("file-sha", res.FileSHA)
	action.SetOutput("attempts", strconv.Itoa(res.Attempts))
	action.Infof("%s %s in %s/%s on %s (commit %q, %d attempt(s))",
		res.Operation, req.Path, req.Owner, req.Repo, res.Branch, res.CommitSHA, res.Attempts)
	return nil
}

func request(action *githubactions.Action) (updatefile.Request, error) {
	req := updatefile.Request{
		Owner:   action.GetInput("owner"),
		Repo:    action.GetInput("repository"),
		Path:    action.GetInput("target-file-path"),
		Branch:  action.GetInput("branch"),
		Message: action.GetInput("commit-message"),
	}
	// "owner/name" is accepted for repository, as github.repository gives
	// it. Refusals quote the inputs as written, not the halves of the split.
	repoInput := req.Repo
	if o, n, ok := strings.Cut(req.Repo, "/"); ok {
		if req.Owner != "" && !strings.EqualFold(req.Owner, o) {
			return req, fmt.Errorf("input repository %q names owner %q but input owner is %q", repoInput, o, req.Owner)
		}
		req.Owner, req.Repo = o, n
		if err := cmp.Or(updatefile.ValidateOwner(o), updatefile.ValidateRepo(n)); err != nil {
			return req, fmt.Errorf("input repository %q: %w", repoInput, err)
		}
	}
	var err error
	if v := action.GetInput("delete"); v != "" {
		if req.Delete, err = strconv.ParseBool(v); err != nil {
			return req, fmt.Errorf("input delete %q is not true or false", v)
		}
	}
	if v := action.GetInput("max-attempts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return req, fmt.Errorf("input max-attempts %q is not a number from 1 to 100", v)
		}
		req.MaxAttempts = n
	}
	// The content input is not trimmed: trailing newlines are content.
	content, hasContent := os.LookupEnv("INPUT_CONTENT")
	hasContent = hasContent && content != ""
	file := action.GetInput("content-file")
	switch {
	case req.Delete && (hasContent || file != ""):
		return req, errors.New("inputs content and content-file must be empty when delete is true")
	case hasContent && file != "":
		return req, errors.New("inputs content and content-file are exclusive: give one")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return req, fmt.Errorf("input content-file: %w", err)
		}
		req.Content = b
	case hasContent:
		req.Content = []byte(content)
	case !req.Delete:
		return req, errors.New("one of the inputs content or content-file is required unless delete is true")
	}
	if err := req.Validate(); err != nil {
		return req, err
	}
	return req, nil
}

// newClient talks to api.github.com, or to GitHub Enterprise (or the
// sandbox's stand-in) at apiURL. Plain http is allowed only to loopback so a
// token never crosses a network in clear text.
func newClient(apiURL, token string) (*github.Client, error) {
	c := github.NewClient(nil).WithAuthToken(token)
	if apiURL == "" {
		return c, nil
	}
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("input api-url %q is not an http(s) URL with a host", apiURL)
	}
	switch u.Scheme {
	case "https":
	case "http":
		// Host names ignore case: LOCALHOST is loopback too.
		if ip := net.ParseIP(u.Hostname()); !strings.EqualFold(u.Hostname(), "localhost") && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("input api-url %q: plain http is only allowed to loopback", apiURL)
		}
	default:
		return nil, fmt.Errorf("input api-url %q is not an http(s) URL", apiURL)
	}
	if strings.EqualFold(u.Host, "api.github.com") {
		return c, nil
	}
	// GITHUB_API_URL on Enterprise is https://host/api/v3; go-github adds
	// /api/v3 and /api/uploads itself to the bare host.
	base := strings.TrimSuffix(strings.TrimSuffix(u.String(), "/"), "/api/v3")
	c, err = c.WithEnterpriseURLs(base, base)
	if err != nil {
		return nil, fmt.Errorf("input api-url %q: %w", apiURL, err)
	}
	return c, nil
}

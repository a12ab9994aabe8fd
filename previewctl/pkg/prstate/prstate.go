// Package prstate asks GitHub whether a pull request is still open. gc uses
// it through the Lookup interface so tests can point it at a local server
// that answers like GitHub.
package prstate

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"
)

// State is a pull request's state as far as environments care.
type State string

const (
	Open   State = "open"
	Closed State = "closed" // closed or merged
)

// ErrNotFound means GitHub does not know the PR (or the token cannot see
// it). It is not "closed": gc keeps such environments and lets the TTL act.
var ErrNotFound = errors.New("pull request not found")

// Lookup reports the state of owner/repo#n.
type Lookup interface {
	State(ctx context.Context, owner, repo string, n int) (State, error)
}

// GitHub is a Lookup over go-github.
type GitHub struct{ Client *github.Client }

// State implements Lookup.
func (g GitHub) State(ctx context.Context, owner, repo string, n int) (State, error) {
	pr, resp, err := g.Client.PullRequests.Get(ctx, owner, repo, n)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return "", fmt.Errorf("%s/%s#%d: %w", owner, repo, n, ErrNotFound)
		}
		return "", fmt.Errorf("looking up %s/%s#%d: %w", owner, repo, n, err)
	}
	switch pr.GetState() {
	case "open":
		return Open, nil
	case "closed":
		return Closed, nil
	}
	return "", fmt.Errorf("looking up %s/%s#%d: unexpected state %q", owner, repo, n, pr.GetState())
}

// NewClient returns a go-github client for apiURL (empty: api.github.com),
// authenticated with token when it is set.
func NewClient(apiURL, token string) (*github.Client, error) {
	c := github.NewClient(nil)
	if token != "" {
		c = c.WithAuthToken(token)
	}
	if apiURL == "" || apiURL == "https://api.github.com" || apiURL == "https://api.github.com/" {
		return c, nil
	}
	c, err := c.WithEnterpriseURLs(apiURL, apiURL)
	if err != nil {
		return nil, fmt.Errorf("GitHub API URL %q: %w", apiURL, err)
	}
	return c, nil
}

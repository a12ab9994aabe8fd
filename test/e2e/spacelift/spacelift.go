// Package spacelift is the small part of Spacelift's GraphQL API the e2e
// suites read: exchange an API key for a JWT, find an environment's stacks by
// label, and read their runs. Plain net/http and encoding/json: the suites
// need four fields, not a GraphQL client library.
package spacelift

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Client talks to one Spacelift account.
type Client struct {
	endpoint string // https://<account>.app.spacelift.io, no trailing slash
	keyID    string
	secret   string
	http     *http.Client

	mu         sync.Mutex
	jwt        string
	validUntil time.Time
}

// tokenSlack renews the JWT this long before Spacelift says it expires, so a
// request never races the expiry.
const tokenSlack = time.Minute

// New returns a client for endpoint (SPACELIFT_API_KEY_ENDPOINT) and an API
// key. hc may be nil.
func New(endpoint, keyID, secret string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("spacelift: endpoint %q is not an http(s) URL like https://<account>.app.spacelift.io", endpoint)
	}
	if keyID == "" || secret == "" {
		return nil, errors.New("spacelift: API key ID and secret must both be set")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{endpoint: u.String(), keyID: keyID, secret: secret, http: hc}, nil
}

// Stack is what the suites read of a stack.
type Stack struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Labels   []string `json:"labels"`
	State    string   `json:"state"`
	Deleting bool     `json:"deleting"`
}

// Run is what the suites read of a run.
type Run struct {
	ID        string `json:"id"`
	State     string `json:"state"`
	Type      string `json:"type"`
	CreatedAt int64  `json:"createdAt"`
	Commit    struct {
		Hash string `json:"hash"`
	} `json:"commit"`
}

// Error is a GraphQL-level failure: HTTP 200 with an "errors" array, or a
// non-200 status.
type Error struct {
	Status   int
	Messages []string
}

func (e *Error) Error() string {
	if len(e.Messages) == 0 {
		return fmt.Sprintf("spacelift: HTTP %d", e.Status)
	}
	return fmt.Sprintf("spacelift: HTTP %d: %s", e.Status, strings.Join(e.Messages, "; "))
}

type gqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

func (c *Client) do(ctx context.Context, auth bool, q string, vars map[string]any, out any) error {
	body, err := json.Marshal(gqlRequest{Query: q, Variables: vars})
	if err != nil {
		return fmt.Errorf("spacelift: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/graphql", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("spacelift: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth {
		tok, err := c.token(ctx)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("spacelift: POST %s/graphql: %w", c.endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("spacelift: read response: %w", err)
	}
	var gr gqlResponse
	if jerr := json.Unmarshal(raw, &gr); jerr != nil || resp.StatusCode != http.StatusOK {
		e := &Error{Status: resp.StatusCode}
		if jerr != nil {
			e.Messages = []string{"response is not GraphQL JSON: " + snippet(raw)}
		}
		for _, m := range gr.Errors {
			e.Messages = append(e.Messages, m.Message)
		}
		return e
	}
	if len(gr.Errors) > 0 {
		e := &Error{Status: resp.StatusCode}
		for _, m := range gr.Errors {
			e.Messages = append(e.Messages, m.Message)
		}
		return e
	}
	if err := json.Unmarshal(gr.Data, out); err != nil {
		return fmt.Errorf("spacelift: decode data: %w", err)
	}
	return nil
}

func snippet(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

const tokenMutation = `mutation GetSpaceliftToken($id: ID!, $secret: String!) {
  apiKeyUser(id: $id, secret: $secret) { jwt validUntil }
}`

// token exchanges the API key for a JWT once and reuses it until shortly
// before it expires.
func (c *Client) token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.jwt != "" && time.Now().Add(tokenSlack).Before(c.validUntil) {
		return c.jwt, nil
	}
	var out struct {
		APIKeyUser *struct {
			JWT        string `json:"jwt"`
			ValidUntil int64  `json:"validUntil"`
		} `json:"apiKeyUser"`
	}
	if err := c.do(ctx, false, tokenMutation, map[string]any{"id": c.keyID, "secret": c.secret}, &out); err != nil {
		return "", fmt.Errorf("spacelift: exchange API key %s for a token (check SPACELIFT_API_KEY_ID, SPACELIFT_API_KEY_SECRET, SPACELIFT_API_KEY_ENDPOINT): %w", c.keyID, err)
	}
	if out.APIKeyUser == nil || out.APIKeyUser.JWT == "" {
		return "", fmt.Errorf("spacelift: API key %s was rejected (no token returned): check SPACELIFT_API_KEY_ID and SPACELIFT_API_KEY_SECRET", c.keyID)
	}
	c.jwt = out.APIKeyUser.JWT
	c.validUntil = time.Unix(out.APIKeyUser.ValidUntil, 0)
	if out.APIKeyUser.ValidUntil == 0 {
		// Older answers omit validUntil; Spacelift's tokens live about an
		// hour, so re-exchange well before that.
		c.validUntil = time.Now().Add(10 * time.Minute)
	}
	return c.jwt, nil
}

// stacksQuery lists every stack the key can see. The suites filter by label
// client-side: an e2e account has few stacks, and this needs no knowledge of
// searchStacks' predicate names.
const stacksQuery = `query { stacks { id name labels state deleting } }`

// StacksWithLabel returns the stacks carrying label exactly (for example
// "preview_environment_id:1a2b3c4d").
func (c *Client) StacksWithLabel(ctx context.Context, label string) ([]Stack, error) {
	var out struct {
		Stacks []Stack `json:"stacks"`
	}
	if err := c.do(ctx, true, stacksQuery, nil, &out); err != nil {
		return nil, fmt.Errorf("list stacks with label %q: %w", label, err)
	}
	var res []Stack
	for _, s := range out.Stacks {
		for _, l := range s.Labels {
			if l == label {
				res = append(res, s)
				break
			}
		}
	}
	return res, nil
}

const runsQuery = `query StackRuns($id: ID!) {
  stack(id: $id) { runs { id state type createdAt commit { hash } } }
}`

// ErrNoStack is returned by Runs for a stack that does not exist (any more).
var ErrNoStack = errors.New("spacelift: no such stack")

// Runs returns a stack's runs, newest first (Spacelift's order).
func (c *Client) Runs(ctx context.Context, stackID string) ([]Run, error) {
	var out struct {
		Stack *struct {
			Runs []Run `json:"runs"`
		} `json:"stack"`
	}
	if err := c.do(ctx, true, runsQuery, map[string]any{"id": stackID}, &out); err != nil {
		return nil, fmt.Errorf("runs of stack %s: %w", stackID, err)
	}
	if out.Stack == nil {
		return nil, fmt.Errorf("runs of stack %s: %w", stackID, ErrNoStack)
	}
	return out.Stack.Runs, nil
}

// RunURL is the run's page (with its logs) in Spacelift's web app.
func (c *Client) RunURL(stackID, runID string) string {
	return c.endpoint + "/stack/" + url.PathEscape(stackID) + "/run/" + url.PathEscape(runID)
}

// Describe is a few lines a person can act on: each stack with the label,
// its state, and its newest run's state and log URL. It never fails.
func (c *Client) Describe(ctx context.Context, label string) string {
	stacks, err := c.StacksWithLabel(ctx, label)
	if err != nil {
		return "spacelift: " + err.Error()
	}
	if len(stacks) == 0 {
		return fmt.Sprintf("spacelift: no stack has label %q", label)
	}
	var b strings.Builder
	for _, s := range stacks {
		fmt.Fprintf(&b, "spacelift: stack %s state %s", s.ID, s.State)
		if s.Deleting {
			b.WriteString(" (deleting)")
		}
		runs, err := c.Runs(ctx, s.ID)
		switch {
		case err != nil:
			fmt.Fprintf(&b, "; runs: %v", err)
		case len(runs) == 0:
			b.WriteString("; no runs")
		default:
			r := runs[0]
			fmt.Fprintf(&b, "; last run %s %s %s at %s: %s", r.ID, r.Type, r.State, r.Commit.Hash, c.RunURL(s.ID, r.ID))
		}
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}

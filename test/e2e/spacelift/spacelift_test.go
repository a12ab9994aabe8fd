package spacelift

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAPI answers like Spacelift's /graphql for the operations this package
// sends: apiKeyUser (null plus an error for a bad key, as the real API does),
// stacks and stack(id) { runs } (null for an unknown stack), and
// "unauthorized" for a missing or wrong bearer token.
type fakeAPI struct {
	keyID, secret string
	jwt           string
	validFor      time.Duration
	stacks        []Stack
	runs          map[string][]Run
	exchanges     atomic.Int32
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/graphql" || r.Method != http.MethodPost {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		http.Error(w, "unsupported content type", http.StatusUnsupportedMediaType)
		return
	}
	var req gqlRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	reply := func(data any, errs ...string) {
		out := map[string]any{"data": data}
		if len(errs) > 0 {
			var es []map[string]string
			for _, e := range errs {
				es = append(es, map[string]string{"message": e})
			}
			out["errors"] = es
		}
		_ = json.NewEncoder(w).Encode(out)
	}
	if strings.Contains(req.Query, "apiKeyUser(") {
		f.exchanges.Add(1)
		if req.Variables["id"] != f.keyID || req.Variables["secret"] != f.secret {
			reply(map[string]any{"apiKeyUser": nil}, "unauthorized")
			return
		}
		reply(map[string]any{"apiKeyUser": map[string]any{"jwt": f.jwt, "validUntil": time.Now().Add(f.validFor).Unix()}})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.jwt {
		reply(nil, "unauthorized")
		return
	}
	switch {
	case strings.Contains(req.Query, "stacks {"):
		reply(map[string]any{"stacks": f.stacks})
	case strings.Contains(req.Query, "stack(id: $id)"):
		id, _ := req.Variables["id"].(string)
		runs, ok := f.runs[id]
		if !ok {
			reply(map[string]any{"stack": nil})
			return
		}
		reply(map[string]any{"stack": map[string]any{"runs": runs}})
	default:
		reply(nil, "unknown query")
	}
}

func newFake() *fakeAPI {
	r := Run{ID: "01RUNNEW", State: "FINISHED", Type: "TRACKED", CreatedAt: 2}
	r.Commit.Hash = "abc123"
	return &fakeAPI{
		keyID: "01KEY", secret: "s3cret", jwt: "jwt-1", validFor: time.Hour,
		stacks: []Stack{
			{ID: "env-1a2b3c4d", Name: "env 1a2b3c4d", Labels: []string{"preview_environment_id:1a2b3c4d", "preview-environment-managed-by:mgr"}, State: "FINISHED"},
			{ID: "env-ffffffff", Labels: []string{"preview_environment_id:ffffffff"}, State: "APPLYING"},
			{ID: "manager", Labels: []string{"preview_environment_id:1a2b3c4"}, State: "FINISHED"}, // prefix, not a match
		},
		runs: map[string][]Run{"env-1a2b3c4d": {r, {ID: "01RUNOLD", State: "FAILED", Type: "TRACKED", CreatedAt: 1}}, "env-ffffffff": {}},
	}
}

func TestStacksWithLabel(t *testing.T) {
	f := newFake()
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, err := New(srv.URL+"/", f.keyID, f.secret, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		label string
		want  []string
	}{
		{"preview_environment_id:1a2b3c4d", []string{"env-1a2b3c4d"}},
		{"preview_environment_id:ffffffff", []string{"env-ffffffff"}},
		{"preview_environment_id:00000000", nil},
		{"preview_environment_id:1a2b3c4", []string{"manager"}},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got, err := c.StacksWithLabel(context.Background(), tt.label)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, s := range got {
				ids = append(ids, s.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.want, ",") {
				t.Errorf("StacksWithLabel(%q) = %v, want %v", tt.label, ids, tt.want)
			}
		})
	}
	if n := f.exchanges.Load(); n != 1 {
		t.Errorf("API key exchanged %d times for %d queries, want once (token reuse)", n, len(tests))
	}
}

func TestTokenRenewedNearExpiry(t *testing.T) {
	f := newFake()
	f.validFor = 30 * time.Second // inside tokenSlack: every call must re-exchange
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, err := New(srv.URL, f.keyID, f.secret, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := c.StacksWithLabel(context.Background(), "x"); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.exchanges.Load(); n != 3 {
		t.Errorf("exchanged %d times, want 3 (token always within %s of expiry)", n, tokenSlack)
	}
}

func TestRunsAndDescribe(t *testing.T) {
	f := newFake()
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, err := New(srv.URL, f.keyID, f.secret, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	runs, err := c.Runs(ctx, "env-1a2b3c4d")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID != "01RUNNEW" || runs[0].Commit.Hash != "abc123" {
		t.Errorf("Runs = %+v", runs)
	}
	if _, err := c.Runs(ctx, "gone"); !errors.Is(err, ErrNoStack) {
		t.Errorf("Runs(gone) error = %v, want ErrNoStack", err)
	}

	tests := []struct {
		label string
		want  []string
	}{
		{"preview_environment_id:1a2b3c4d", []string{"stack env-1a2b3c4d state FINISHED", "last run 01RUNNEW TRACKED FINISHED", srv.URL + "/stack/env-1a2b3c4d/run/01RUNNEW"}},
		{"preview_environment_id:ffffffff", []string{"stack env-ffffffff state APPLYING", "no runs"}},
		{"preview_environment_id:00000000", []string{`no stack has label "preview_environment_id:00000000"`}},
	}
	for _, tt := range tests {
		got := c.Describe(ctx, tt.label)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("Describe(%q) = %q, missing %q", tt.label, got, w)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	f := newFake()
	srv := httptest.NewServer(f)
	defer srv.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	}))
	defer down.Close()

	tests := []struct {
		name     string
		endpoint string
		keyID    string
		secret   string
		want     string
	}{
		{"wrong secret", srv.URL, f.keyID, "nope", "SPACELIFT_API_KEY_SECRET, SPACELIFT_API_KEY_ENDPOINT): spacelift: HTTP 200: unauthorized"},
		{"unknown key", srv.URL, "01OTHER", f.secret, "01OTHER"},
		{"gateway error", down.URL, f.keyID, f.secret, "HTTP 502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.endpoint, tt.keyID, tt.secret, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.StacksWithLabel(context.Background(), "x")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
			if d := c.Describe(context.Background(), "x"); !strings.HasPrefix(d, "spacelift: ") {
				t.Errorf("Describe on failure = %q, want a spacelift: line", d)
			}
		})
	}
}

func TestNewValidatesInput(t *testing.T) {
	tests := []struct {
		endpoint, id, secret, want string
	}{
		{"", "id", "s", "endpoint"},
		{"ftp://x", "id", "s", "endpoint"},
		{"https://acme.app.spacelift.io", "", "s", "API key"},
		{"https://acme.app.spacelift.io", "id", "", "API key"},
	}
	for _, tt := range tests {
		if _, err := New(tt.endpoint, tt.id, tt.secret, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%q, %q, %q) error = %v, want it to mention %q", tt.endpoint, tt.id, tt.secret, err, tt.want)
		}
	}
}

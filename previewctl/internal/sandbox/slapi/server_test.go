package slapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	testToken    = "run-token"
	managerStack = "manager"
)

func newTestServer(t *testing.T) (*Memory, *httptest.Server) {
	t.Helper()
	m := NewMemory()
	m.SetToken(testToken, managerStack)
	m.SetToken("api-key", "")
	srv := httptest.NewServer(NewServer(m))
	t.Cleanup(srv.Close)
	return m, srv
}

func TestServerStatuses(t *testing.T) {
	m, srv := newTestServer(t)
	ctx := context.Background()
	seed := func() {
		if _, err := m.CreateStack(ctx, StackSpec{Name: "Existing Stack", Repository: "r", Branch: "main"}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.CreatePolicy(ctx, PolicySpec{Name: "push", Type: "GIT_PUSH", Body: "package spacelift"}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.AttachPolicy(ctx, "push", "existing-stack"); err != nil {
			t.Fatal(err)
		}
		if _, err := m.CreateStack(ctx, StackSpec{Name: "doomed", Repository: "r", Branch: "main"}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.CreateStack(ctx, StackSpec{Name: "gone", Repository: "r", Branch: "main"}); err != nil {
			t.Fatal(err)
		}
	}
	seed()

	tests := []struct {
		name, method, path, token, body string
		status                          int
		// inBody must appear in the answer.
		inBody string
	}{
		{"no token", "GET", "/stacks/existing-stack", "", "", 401, `"error"`},
		{"unknown token", "GET", "/stacks/existing-stack", "nope", "", 401, "unknown token"},
		{"unknown token on unknown route", "GET", "/nowhere", "nope", "", 401, ""},
		{"current stack", "GET", "/current-stack", testToken, "", 200, `"id":"manager"`},
		{"current stack of an API key", "GET", "/current-stack", "api-key", "", 404, "no stack"},
		{"get stack", "GET", "/stacks/existing-stack", testToken, "", 200, `"state":"NONE"`},
		{"missing stack", "GET", "/stacks/nope", testToken, "", 404, "not found"},
		{"create stack", "POST", "/stacks", testToken, `{"name":"Hello Service 42","repository":"r","branch":"main"}`, 201, `"id":"hello-service-42"`},
		{"duplicate stack carries the existing one", "POST", "/stacks", testToken, `{"name":"existing  STACK!","repository":"other","branch":"b"}`, 409, `"stack":{"id":"existing-stack"`},
		{"stack without a name", "POST", "/stacks", testToken, `{"repository":"r","branch":"main"}`, 400, "name is required"},
		{"unknown field", "POST", "/stacks", testToken, `{"name":"x","repository":"r","branch":"main","colour":"red"}`, 400, "unknown field"},
		{"two JSON values", "POST", "/stacks", testToken, `{"name":"x","repository":"r","branch":"main"}{}`, 400, "more than one"},
		{"empty body", "POST", "/stacks", testToken, ``, 400, "request body"},
		{"body too large", "POST", "/stacks", testToken, `{"name":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, 413, "exceeds"},
		{"slug change refused", "PUT", "/stacks/existing-stack", testToken, `{"name":"x","slug":"other","repository":"r","branch":"main"}`, 400, "immutable"},
		{"update missing stack", "PUT", "/stacks/nope", testToken, `{"name":"x","repository":"r","branch":"main"}`, 404, ""},
		{"delete without destroy_resources", "DELETE", "/stacks/existing-stack", testToken, "", 400, "destroy_resources"},
		{"destroy queues", "DELETE", "/stacks/doomed?destroy_resources=true", testToken, "", 202, `"state":"DELETING"`},
		{"delete at once", "DELETE", "/stacks/gone?destroy_resources=false", testToken, "", 204, ""},
		{"delete missing stack", "DELETE", "/stacks/gone?destroy_resources=false", testToken, "", 404, ""},
		{"env var on missing stack", "PUT", "/stacks/nope/env/FOO", testToken, `{"value":"v","write_only":false}`, 404, ""},
		{"env var with a bad name", "PUT", "/stacks/existing-stack/env/1FOO", testToken, `{"value":"v"}`, 400, "not a valid name"},
		{"env var hides a write-only value", "PUT", "/stacks/existing-stack/env/SECRET", testToken, `{"value":"s3cret","write_only":true}`, 200, `"value":""`},
		{"missing env var", "GET", "/stacks/existing-stack/env/NOPE", testToken, "", 404, ""},
		{"delete missing env var", "DELETE", "/stacks/existing-stack/env/NOPE", testToken, "", 404, ""},
		{"create policy", "POST", "/policies", testToken, `{"name":"Hello: trigger","type":"TRIGGER","body":"package spacelift"}`, 201, `"engine_type":"REGO_V0"`},
		{"duplicate policy", "POST", "/policies", testToken, `{"name":"PUSH","type":"GIT_PUSH","body":"package spacelift"}`, 409, ""},
		{"bad policy type", "POST", "/policies", testToken, `{"name":"x","type":"NOPE","body":"b"}`, 400, "policy type"},
		{"policy type is immutable", "PUT", "/policies/push", testToken, `{"name":"push","type":"PLAN","body":"b"}`, 400, "immutable"},
		{"attach twice", "POST", "/policies/push/attachments", testToken, `{"stack_id":"existing-stack"}`, 409, "already"},
		{"attach to a missing stack", "POST", "/policies/push/attachments", testToken, `{"stack_id":"nope"}`, 404, ""},
		{"get attachment", "GET", "/policies/push/attachments/existing-stack", testToken, "", 200, `"id":"push/existing-stack"`},
		{"create aws integration", "POST", "/aws-integrations", testToken, `{"name":"aws","role_arn":"arn:aws:iam::1:role/r"}`, 201, `"duration_seconds":900`},
		{"aws integration without an ARN", "POST", "/aws-integrations", testToken, `{"name":"aws","role_arn":"r"}`, 400, "role_arn"},
		{"role by name", "GET", "/roles?name=Space+admin", testToken, "", 200, `"id":"space-admin"`},
		{"role by id", "GET", "/roles?id=space-admin", testToken, "", 200, `"name":"Space admin"`},
		{"role by both", "GET", "/roles?id=space-admin&name=Space+admin", testToken, "", 400, "exactly one"},
		{"missing role", "GET", "/roles?name=Nope", testToken, "", 404, ""},
		{"role attachment", "POST", "/role-attachments", testToken, `{"role_id":"space-admin","space_id":"root","stack_id":"existing-stack"}`, 201, `"role_id":"space-admin"`},
		{"duplicate role attachment", "POST", "/role-attachments", testToken, `{"role_id":"space-admin","space_id":"root","stack_id":"existing-stack"}`, 409, ""},
		{"unknown route", "GET", "/nowhere", testToken, "", 404, "no route"},
		{"wrong method", "PATCH", "/stacks/existing-stack", testToken, "", 405, "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, body)
			}
			if tt.status == 204 {
				if len(body) != 0 {
					t.Errorf("204 with body %q", body)
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if !json.Valid(body) {
				t.Errorf("body is not JSON: %s", body)
			}
			if tt.status >= 400 {
				var e Error
				if json.Unmarshal(body, &e) != nil || e.Error == "" {
					t.Errorf("error body %s has no error message", body)
				}
			}
			if !strings.Contains(string(body), tt.inBody) {
				t.Errorf("body %s does not contain %s", body, tt.inBody)
			}
		})
	}
	if allow := func() string {
		req, _ := http.NewRequest("PATCH", srv.URL+"/stacks/existing-stack", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Allow")
	}(); allow != "GET, PUT, DELETE" {
		t.Errorf("Allow %q, want GET, PUT, DELETE", allow)
	}
}

func TestStatusFor(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{ErrNotFound, 404},
		{&ConflictError{}, 409},
		{errors.Join(errors.New("x"), ErrInvalid), 400},
		{ErrUnauthorized, 401},
		{context.Canceled, 503},
		{errors.New("disk full"), 500},
	}
	for _, tt := range tests {
		if got := StatusFor(tt.err); got != tt.want {
			t.Errorf("StatusFor(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestSlug(t *testing.T) {
	tests := map[string]string{
		"hello-service-1a2b3c4d":             "hello-service-1a2b3c4d",
		"Hello Service: push":                "hello-service-push",
		"  --Preview__Envs--manager  ":       "preview-envs-manager",
		"hello-service preview environments": "hello-service-preview-environments",
		"Ünïcode Ünits":                      "n-code-nits",
		"!!!":                                "",
		"a1--b2":                             "a1-b2",
	}
	for in, want := range tests {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

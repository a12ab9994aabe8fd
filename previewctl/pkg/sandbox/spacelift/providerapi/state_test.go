package providerapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"preview-environments/previewctl/pkg/sandbox/spacelift/store"
	"preview-environments/previewctl/pkg/sandbox/state"
)

// TestStateBackend drives the state endpoints as OpenTofu's http backend
// does, in order: the answers a second writer, a stranger and a killed
// run's leftover lock get.
func TestStateBackend(t *testing.T) {
	ctx := context.Background()
	db, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := store.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	tokens := NewTokens()
	b := New(st, tokens, "sandbox", nil, Hooks{})
	tokA, _ := tokens.Issue("stack-a", "run-1")
	tokB, _ := tokens.Issue("stack-b", "run-2")
	srv := httptest.NewServer(b.stateHandler())
	defer srv.Close()

	do := func(method, path, token, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.SetBasicAuth("spacelift", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	lock1 := `{"ID":"lock-1","Operation":"OperationTypeApply"}`
	for _, step := range []struct {
		name, method, path, token, body string
		code                            int
		contains                        string
	}{
		{"no state yet", "GET", "/state/stack-a", tokA, "", http.StatusNoContent, ""},
		{"no token", "GET", "/state/stack-a", "", "", http.StatusUnauthorized, ""},
		{"another stack's token", "GET", "/state/stack-a", tokB, "", http.StatusForbidden, "stack-b"},
		{"lock", "LOCK", "/state/stack-a", tokA, lock1, http.StatusOK, ""},
		{"lock held", "LOCK", "/state/stack-a", tokA, `{"ID":"lock-2"}`, http.StatusLocked, "lock-1"},
		{"write without the lock", "POST", "/state/stack-a?ID=lock-2", tokA, `{"serial":1}`, http.StatusLocked, "lock-1"},
		{"write with the lock", "POST", "/state/stack-a?ID=lock-1", tokA, `{"serial":1}`, http.StatusOK, ""},
		{"not JSON", "POST", "/state/stack-a?ID=lock-1", tokA, `serial`, http.StatusBadRequest, ""},
		{"read back", "GET", "/state/stack-a", tokA, "", http.StatusOK, `{"serial":1}`},
		{"unlock with another ID", "UNLOCK", "/state/stack-a", tokA, `{"ID":"lock-2"}`, http.StatusConflict, "lock-1"},
		{"unlock", "UNLOCK", "/state/stack-a", tokA, lock1, http.StatusOK, ""},
		{"lock again", "LOCK", "/state/stack-a", tokA, `{"ID":"lock-3"}`, http.StatusOK, ""},
	} {
		code, body := do(step.method, step.path, step.token, step.body)
		if code != step.code || !strings.Contains(body, step.contains) {
			t.Fatalf("%s: %s %s = %d %q, want %d containing %q", step.name, step.method, step.path, code, body, step.code, step.contains)
		}
	}
	// A run that starts finds the lock of a killed tofu and clears it.
	if err := st.UnlockState(ctx, "stack-a", ""); err != nil {
		t.Fatal(err)
	}
	if code, _ := do("LOCK", "/state/stack-a", tokA, `{"ID":"lock-4"}`); code != http.StatusOK {
		t.Fatalf("lock after the forced unlock: %d", code)
	}
}

package providerapi

import (
	"crypto/rand"
	"encoding/hex"
	"sync"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

// Tokens are the API tokens of the runs under way: the engine issues one
// per run and revokes it when the run ends; the provider API and the state
// backend accept a call only with one, and only for its stack.
type Tokens struct {
	mu sync.Mutex
	m  map[string]runToken
}

type runToken struct{ stackID, runID string }

// NewTokens returns an empty token registry.
func NewTokens() *Tokens { return &Tokens{m: map[string]runToken{}} }

// Issue gives a run of stackID its API token, and the function that
// revokes it.
func (t *Tokens) Issue(stackID, runID string) (string, func()) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := "sandbox-run-" + hex.EncodeToString(b)
	t.mu.Lock()
	t.m[tok] = runToken{stackID: stackID, runID: runID}
	t.mu.Unlock()
	return tok, func() {
		t.mu.Lock()
		delete(t.m, tok)
		t.mu.Unlock()
	}
}

// stack resolves a token to its run's stack.
func (t *Tokens) stack(token string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if rt, ok := t.m[token]; ok && token != "" {
		return rt.stackID, nil
	}
	return "", slapi.ErrUnauthorized
}

package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"preview-environments/previewctl/pkg/sandbox/lambda"
)

// recordingInvoker answers like cannedInvoker and remembers what it got.
type recordingInvoker struct {
	mu       sync.Mutex
	calls    []string // function names
	payloads [][]byte
	err      error
}

func (r *recordingInvoker) Invoke(_ context.Context, function string, payload []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, function)
	r.payloads = append(r.payloads, append([]byte(nil), payload...))
	if r.err != nil {
		return nil, r.err
	}
	return []byte(`{"statusCode":200,"body":"ok"}`), nil
}

// TestPayloadLimit: a request whose proxy event would exceed Lambda's 6 MB
// invocation limit gets a 413 from the gateway, and the function is never
// invoked; today's emulator would refuse the payload and the client would
// see a 502 blaming the function.
func TestPayloadLimit(t *testing.T) {
	const mb = 1 << 20
	text := func(n int) []byte { return bytes.Repeat([]byte("a"), n) }
	binary := func(n int) []byte { return bytes.Repeat([]byte{0xff}, n) } // not UTF-8: base64 in the event
	for _, tc := range []struct {
		name    string
		body    []byte
		header  int // bytes of one extra header value
		status  int
		invoked bool
	}{
		{"small text", text(100), 0, http.StatusOK, true},
		{"5 MB text fits", text(5 * mb), 0, http.StatusOK, true},
		{"4 MB binary fits (5.3 MB base64)", binary(4 * mb), 0, http.StatusOK, true},
		{"5 MB binary is 6.7 MB base64", binary(5 * mb), 0, http.StatusRequestEntityTooLarge, false},
		{"text just under 6 MB plus headers", text(6*mb - 100), 200, http.StatusRequestEntityTooLarge, false},
		{"7 MB text: over before encoding", text(7 * mb), 0, http.StatusRequestEntityTooLarge, false},
		{"11 MB: over API Gateway's own 10 MB", text(11 * mb), 0, http.StatusRequestEntityTooLarge, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := &recordingInvoker{}
			g := New(inv, nil)
			if err := g.Set(Environment{ID: "e1", Service: "svc"}); err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodPost, "http://e1.svc.localhost:8080/upload", bytes.NewReader(tc.body))
			if tc.header > 0 {
				r.Header.Set("X-Padding", strings.Repeat("p", tc.header))
			}
			w := httptest.NewRecorder()
			g.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d (%s); want %d", w.Code, w.Body, tc.status)
			}
			if got := len(inv.calls) > 0; got != tc.invoked {
				t.Fatalf("invoked = %v; want %v", got, tc.invoked)
			}
			if tc.invoked && len(inv.payloads[0]) > MaxEventBytes {
				t.Fatalf("invoked with a %d-byte event, over the limit", len(inv.payloads[0]))
			}
			if tc.status == http.StatusRequestEntityTooLarge {
				var msg struct{ Message string }
				if err := json.Unmarshal(w.Body.Bytes(), &msg); err != nil || !strings.HasPrefix(msg.Message, "Request Too Long") {
					t.Fatalf("413 body %q: want a JSON message starting with Request Too Long", w.Body)
				}
			}
		})
	}
}

// A function that fails is still a 502 and a missing one a 404 on the
// direct path (the refactoring into proxy kept them).
func TestDirectPathErrors(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{&lambda.FunctionError{Type: "Runtime.ExitError", Message: "boom"}, http.StatusBadGateway},
		{lambda.ErrTimeout, http.StatusGatewayTimeout},
		{lambda.ErrNotFound, http.StatusNotFound},
	} {
		inv := &recordingInvoker{err: tc.err}
		g := New(inv, nil)
		if err := g.Set(Environment{ID: "e1", Service: "svc"}); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://e1.svc.localhost/", nil))
		if w.Code != tc.status {
			t.Errorf("invoke error %v: status %d; want %d", tc.err, w.Code, tc.status)
		}
	}
}

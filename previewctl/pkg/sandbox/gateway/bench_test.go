package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// cannedInvoker answers every invoke with what the hello service returns,
// so BenchmarkServeHTTP measures the gateway's own work per request (event
// in, response out) without an emulator.
type cannedInvoker struct{ out []byte }

func (c cannedInvoker) Invoke(_ context.Context, _ string, payload []byte) ([]byte, error) {
	if len(payload) == 0 {
		panic("empty payload")
	}
	return c.out, nil
}

func BenchmarkServeHTTP(b *testing.B) {
	g := New(cannedInvoker{[]byte(`{"statusCode":200,"headers":{"Cache-Control":"no-store","Content-Type":"text/plain; charset=utf-8"},"multiValueHeaders":null,"body":"0123456789abcdef0123456789abcdef01234567: Hello world\n"}`)}, nil)
	if err := g.Set(Environment{ID: "be0c0001", Service: "hello-service"}); err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "http://be0c0001.hello-service.localhost:8080/hello", nil)
	r.Header.Set("User-Agent", "Go-http-client/1.1")
	r.Header.Set("Accept-Encoding", "gzip")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

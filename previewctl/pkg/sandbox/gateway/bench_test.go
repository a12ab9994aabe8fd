package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
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

// helloResponse is the hello service's proxy response to GET /hello.
const helloResponse = `{"statusCode":200,"headers":{"Cache-Control":"no-store","Content-Type":"text/plain; charset=utf-8"},"multiValueHeaders":null,"body":"0123456789abcdef0123456789abcdef01234567: Hello world\n"}`

// benchRequest is the request BenchmarkGatewayVsDirect (pkg/sandbox) sends.
func benchRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://be0c0001.hello-service.localhost:8080/hello", nil)
	r.Header.Set("User-Agent", "Go-http-client/1.1")
	r.Header.Set("Accept-Encoding", "gzip")
	return r
}

func BenchmarkServeHTTP(b *testing.B) {
	g := New(cannedInvoker{[]byte(helloResponse)}, nil)
	if err := g.Set(Environment{ID: "be0c0001", Service: "hello-service"}); err != nil {
		b.Fatal(err)
	}
	r := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkEventEncode is the proxy event's share of BenchmarkServeHTTP:
// building it and encoding it with encoding/json.
func BenchmarkEventEncode(b *testing.B) {
	route, err := ParseRoute("GET /hello")
	if err != nil {
		b.Fatal(err)
	}
	r, now := benchRequest(), time.Now()
	b.ReportAllocs()
	for b.Loop() {
		ev := buildEvent(r, &route, nil, nil, "be0c0001", "0123abcd-000000000001", now)
		if p, err := json.Marshal(&ev); err != nil || len(p) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkResponseDecode is the proxy response's share of BenchmarkServeHTTP.
func BenchmarkResponseDecode(b *testing.B) {
	out := []byte(helloResponse)
	b.ReportAllocs()
	for b.Loop() {
		var resp events.APIGatewayProxyResponse
		if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 {
			b.Fatal(err)
		}
	}
}

package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"preview-environments/service/handler"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func TestHandle(t *testing.T) {
	tests := []struct {
		name        string
		version     string
		method      string
		path        string
		headers     map[string]string
		multi       map[string][]string
		status      int
		contentType string
		body        string // exact, unless empty
		allow       string
		json        *handler.Hello
	}{
		{name: "hello text", version: sha, method: "GET", path: "/hello",
			status: 200, contentType: "text/plain; charset=utf-8", body: sha + ": Hello world"},
		{name: "root text", version: "latest", method: "GET", path: "/",
			status: 200, contentType: "text/plain; charset=utf-8", body: "latest: Hello world"},
		{name: "empty path is root", version: sha, method: "GET", path: "",
			status: 200, body: sha + ": Hello world"},
		{name: "trailing slash", version: sha, method: "GET", path: "/hello/",
			status: 200, body: sha + ": Hello world"},
		{name: "browser accept stays text", version: sha, method: "GET", path: "/hello",
			headers: map[string]string{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
			status:  200, contentType: "text/plain; charset=utf-8", body: sha + ": Hello world"},
		{name: "json accept", version: sha, method: "GET", path: "/hello",
			headers: map[string]string{"Accept": "application/json"},
			status:  200, contentType: "application/json",
			json: &handler.Hello{Version: sha, Commit: sha, Environment: "abcd1234", Message: "Hello world"}},
		{name: "json accept lower-case header", version: "latest", method: "GET", path: "/",
			headers: map[string]string{"accept": "application/json; charset=utf-8"},
			status:  200, contentType: "application/json",
			json: &handler.Hello{Version: "latest", Commit: sha, Environment: "abcd1234", Message: "Hello world"}},
		{name: "json via multi-value header", version: sha, method: "GET", path: "/",
			multi:  map[string][]string{"ACCEPT": {"text/plain;q=0.5", "application/json"}},
			status: 200, contentType: "application/json",
			json: &handler.Hello{Version: sha, Commit: sha, Environment: "abcd1234", Message: "Hello world"}},
		{name: "text preferred over json", version: sha, method: "GET", path: "/",
			headers: map[string]string{"Accept": "application/json;q=0.5, text/plain"},
			status:  200, contentType: "text/plain; charset=utf-8", body: sha + ": Hello world"},
		{name: "json refused with q=0", version: sha, method: "GET", path: "/",
			headers: map[string]string{"Accept": "application/json;q=0"},
			status:  200, contentType: "text/plain; charset=utf-8"},
		{name: "head", version: sha, method: "HEAD", path: "/hello",
			status: 200, contentType: "text/plain; charset=utf-8", body: ""},
		{name: "unknown path", version: sha, method: "GET", path: "/nope",
			status: 404, contentType: "text/plain; charset=utf-8", body: "not found"},
		{name: "prefix is not a route", version: sha, method: "GET", path: "/hello/world",
			status: 404, body: "not found"},
		{name: "unknown path json", version: sha, method: "GET", path: "/nope",
			headers: map[string]string{"Accept": "application/json"},
			status:  404, contentType: "application/json", body: `{"error":"not found","path":"/nope"}`},
		{name: "unknown path wrong method is 404", version: sha, method: "POST", path: "/nope",
			status: 404, body: "not found"},
		{name: "post", version: sha, method: "POST", path: "/hello",
			status: 405, contentType: "text/plain; charset=utf-8", body: "method not allowed", allow: "GET, HEAD"},
		{name: "delete root", version: sha, method: "DELETE", path: "/",
			status: 405, body: "method not allowed", allow: "GET, HEAD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := handler.New(handler.Config{
				Version: tc.version, Commit: sha, EnvironmentID: "abcd1234",
				Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
			})
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req"})
			resp, err := h.Handle(ctx, events.APIGatewayProxyRequest{
				HTTPMethod: tc.method, Path: tc.path, Headers: tc.headers, MultiValueHeaders: tc.multi,
				RequestContext: events.APIGatewayProxyRequestContext{RequestID: "apigw-req"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.contentType != "" && resp.Headers["Content-Type"] != tc.contentType {
				t.Errorf("Content-Type %q, want %q", resp.Headers["Content-Type"], tc.contentType)
			}
			if tc.json != nil {
				var got handler.Hello
				if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
					t.Fatalf("body %q: %v", resp.Body, err)
				}
				if got != *tc.json {
					t.Errorf("json %+v, want %+v", got, *tc.json)
				}
			} else if (tc.body != "" || tc.method == "HEAD") && resp.Body != tc.body {
				t.Errorf("body %q, want %q", resp.Body, tc.body)
			}
			if resp.Headers["Allow"] != tc.allow {
				t.Errorf("Allow %q, want %q", resp.Headers["Allow"], tc.allow)
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("log is not one JSON line: %q", logs.String())
			}
			if line["request_id"] != "apigw-req" || line["lambda_request_id"] != "lambda-req" ||
				line["status"] != float64(tc.status) || line["environment"] != "abcd1234" {
				t.Errorf("log line %v", line)
			}
		})
	}
}

// TestGreeting: the message comes from Config.Greeting (PREVIEW_GREETING),
// in both the text and the JSON answer, with "Hello world" when unset.
func TestGreeting(t *testing.T) {
	tests := []struct {
		name     string
		greeting string
		want     string
	}{
		{name: "unset is the default", greeting: "", want: handler.DefaultGreeting},
		{name: "set by infra", greeting: "Hello from infra", want: "Hello from infra"},
		{name: "kept verbatim", greeting: "  Grüß dich: <b>&</b>  ", want: "  Grüß dich: <b>&</b>  "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := handler.New(handler.Config{Version: sha, Commit: sha, EnvironmentID: "abcd1234", Greeting: tc.greeting})
			text, err := h.Handle(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/hello"})
			if err != nil {
				t.Fatal(err)
			}
			if want := sha + ": " + tc.want; text.StatusCode != 200 || text.Body != want {
				t.Errorf("text: %d %q, want 200 %q", text.StatusCode, text.Body, want)
			}
			js, err := h.Handle(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/",
				Headers: map[string]string{"Accept": "application/json"}})
			if err != nil {
				t.Fatal(err)
			}
			var got handler.Hello
			if err := json.Unmarshal([]byte(js.Body), &got); err != nil {
				t.Fatalf("json body %q: %v", js.Body, err)
			}
			if got.Message != tc.want {
				t.Errorf("json message %q, want %q", got.Message, tc.want)
			}
		})
	}
}

func TestNilLoggerIsSafe(t *testing.T) {
	resp, err := handler.New(handler.Config{Version: sha}).Handle(context.Background(),
		events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/"})
	if err != nil || !strings.HasPrefix(resp.Body, sha) {
		t.Fatalf("%v %q", err, resp.Body)
	}
}

func BenchmarkHandle(b *testing.B) {
	h := handler.New(handler.Config{Version: sha, Commit: sha, EnvironmentID: "abcd1234",
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	cases := []struct {
		name   string
		accept string
	}{{"text", ""}, {"json", "application/json"}}
	for _, c := range cases {
		req := events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/hello",
			Headers: map[string]string{"Accept": c.accept}}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				if _, err := h.Handle(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

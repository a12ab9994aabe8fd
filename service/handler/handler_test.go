package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// fakeSource is a handler.Source with a canned answer that counts calls.
type fakeSource struct {
	greeting string
	err      error
	calls    int
}

func (f *fakeSource) Greeting(context.Context) (string, error) {
	f.calls++
	return f.greeting, f.err
}

// TestSource: with a Source (the data bucket's object), the greeting is
// read for every answered request, in text and JSON; a failed read is a
// 503 saying so (never an error for API Gateway to turn into a 502), with
// the cause in the request's one log line at level ERROR; unknown paths and
// methods do not read it.
func TestSource(t *testing.T) {
	readErr := errors.New("read greeting s3://preview-0a1b2c3d-x/greeting.txt: NoSuchKey: The specified key does not exist.")
	tests := []struct {
		name        string
		src         *fakeSource
		method      string
		path        string
		accept      string
		status      int
		contentType string
		body        string
		calls       int
		logError    string
	}{
		{name: "text", src: &fakeSource{greeting: "Hello from S3"}, method: "GET", path: "/hello",
			status: 200, contentType: "text/plain; charset=utf-8", body: sha + ": Hello from S3", calls: 1},
		{name: "json", src: &fakeSource{greeting: "Hello from S3"}, method: "GET", path: "/", accept: "application/json",
			status: 200, contentType: "application/json", body: `{"version":"` + sha + `","commit":"` + sha + `","environment":"abcd1234","message":"Hello from S3"}`, calls: 1},
		{name: "empty object is the default", src: &fakeSource{greeting: ""}, method: "GET", path: "/",
			status: 200, body: sha + ": Hello world", calls: 1},
		{name: "read fails", src: &fakeSource{err: readErr}, method: "GET", path: "/hello",
			status: 503, contentType: "text/plain; charset=utf-8", body: handler.Unavailable, calls: 1, logError: readErr.Error()},
		{name: "read fails json", src: &fakeSource{err: readErr}, method: "GET", path: "/hello", accept: "application/json",
			status: 503, contentType: "application/json", body: `{"error":"` + handler.Unavailable + `","path":"/hello"}`, calls: 1, logError: readErr.Error()},
		{name: "read fails head", src: &fakeSource{err: readErr}, method: "HEAD", path: "/",
			status: 503, body: "", calls: 1, logError: readErr.Error()},
		{name: "unknown path reads nothing", src: &fakeSource{err: readErr}, method: "GET", path: "/nope", status: 404, body: "not found"},
		{name: "wrong method reads nothing", src: &fakeSource{err: readErr}, method: "PUT", path: "/hello", status: 405, body: "method not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := handler.New(handler.Config{Version: sha, Commit: sha, EnvironmentID: "abcd1234", Greeting: "ignored with a source",
				Source: tc.src, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			resp, err := h.Handle(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: tc.method, Path: tc.path,
				Headers: map[string]string{"Accept": tc.accept}})
			if err != nil {
				t.Fatalf("Handle returned an error (API Gateway would answer a bare 502): %v", err)
			}
			if resp.StatusCode != tc.status || resp.Body != tc.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, resp.Body, tc.status, tc.body)
			}
			if tc.contentType != "" && resp.Headers["Content-Type"] != tc.contentType {
				t.Errorf("Content-Type %q, want %q", resp.Headers["Content-Type"], tc.contentType)
			}
			if tc.status == 503 && resp.Headers["Retry-After"] == "" {
				t.Error("503 without Retry-After")
			}
			if tc.src.calls != tc.calls {
				t.Errorf("source read %d times, want %d", tc.src.calls, tc.calls)
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("log is not one JSON line: %q", logs.String())
			}
			wantLevel := "INFO"
			if tc.logError != "" {
				wantLevel = "ERROR"
			}
			if line["level"] != wantLevel || line["status"] != float64(tc.status) || (tc.logError != "" && line["error"] != tc.logError) ||
				(tc.logError == "" && line["error"] != nil) {
				t.Errorf("log line %v; want level %s, status %d, error %q", line, wantLevel, tc.status, tc.logError)
			}
		})
	}
}

package gateway

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestParseHost(t *testing.T) {
	for _, tc := range []struct {
		host, id, service string
		ok                bool
	}{
		{"0a1b2c3d.hello-service.localhost:8080", "0a1b2c3d", "hello-service", true},
		{"0A1B2C3D.Hello-Service.LOCALHOST", "0a1b2c3d", "hello-service", true},
		{"0a1b2c3d.hello-service.localhost.:80", "0a1b2c3d", "hello-service", true},
		{"localhost:8080", "", "", false},
		{"hello.localhost", "", "", false},
		{"a.b.c.localhost", "", "", false},
		{"a_b.svc.localhost", "", "", false},
		{"0a1b2c3d.hello-service.example.com", "", "", false},
		{"127.0.0.1:8080", "", "", false},
	} {
		id, svc, ok := ParseHost(tc.host)
		if id != tc.id || svc != tc.service || ok != tc.ok {
			t.Errorf("ParseHost(%q) = %q %q %v; want %q %q %v", tc.host, id, svc, ok, tc.id, tc.service, tc.ok)
		}
	}
}

func TestRouting(t *testing.T) {
	env := Environment{ID: "e1", Service: "svc"}
	for _, r := range []string{"GET /", "GET /hello", "ANY /items/{id}", "POST /items/{id}", "GET /files/{path+}"} {
		rt, err := ParseRoute(r)
		if err != nil {
			t.Fatal(err)
		}
		env.Routes = append(env.Routes, rt)
	}
	if err := env.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
		route        string
		params       map[string]string
	}{
		{"GET", "/", "GET /", nil},
		{"GET", "/hello", "GET /hello", nil},
		{"GET", "/hello/", "GET /hello", nil},
		{"POST", "/hello", "", nil},
		{"GET", "/hello/x", "", nil},
		{"POST", "/items/7", "POST /items/{id}", map[string]string{"id": "7"}},
		{"DELETE", "/items/7", "ANY /items/{id}", map[string]string{"id": "7"}},
		{"GET", "/items", "", nil},
		{"GET", "/files/a/b/c.txt", "GET /files/{path+}", map[string]string{"path": "a/b/c.txt"}},
		{"GET", "/files", "", nil},
	} {
		segs := []string{}
		p := tc.path
		if len(p) > 1 {
			p = strings.TrimSuffix(p, "/")
		}
		if p != "/" {
			segs = strings.Split(p[1:], "/")
		}
		got, params := "", map[string]string(nil)
		for i := range env.Routes {
			if ps, ok := env.Routes[i].match(tc.method, segs); ok {
				got, params = env.Routes[i].String(), ps
				break
			}
		}
		if got != tc.route || !reflect.DeepEqual(params, tc.params) {
			t.Errorf("%s %s -> %q %v; want %q %v", tc.method, tc.path, got, params, tc.route, tc.params)
		}
	}
}

func TestParseRouteErrors(t *testing.T) {
	for _, s := range []string{"GET", "FETCH /", "GET hello", "GET /{a+}/b", "GET /a b", "GET /<x>"} {
		if _, err := ParseRoute(s); err == nil {
			t.Errorf("ParseRoute(%q) accepted", s)
		}
	}
}

// TestProxyEvent: what the function receives for a request through the
// gateway, decoded as aws-lambda-go's runtime decodes it.
func TestProxyEvent(t *testing.T) {
	binary := []byte{0xff, 0x00, 0xfe, 0xfb}
	for _, tc := range []struct {
		name, method, url string
		header            http.Header
		body              []byte
		check             func(t *testing.T, ev events.APIGatewayProxyRequest)
	}{
		{name: "headers and multi-value headers", method: "GET", url: "/hello",
			header: http.Header{"X-Multi": {"one", "two"}, "Accept": {"*/*"}, "X-Empty": {}},
			check: func(t *testing.T, ev events.APIGatewayProxyRequest) {
				// Single-value maps hold the last value; multi-value maps all.
				if ev.Headers["X-Multi"] != "two" || !reflect.DeepEqual(ev.MultiValueHeaders["X-Multi"], []string{"one", "two"}) {
					t.Errorf("X-Multi: %q %q", ev.Headers["X-Multi"], ev.MultiValueHeaders["X-Multi"])
				}
				if ev.Headers["Accept"] != "*/*" || !reflect.DeepEqual(ev.MultiValueHeaders["Accept"], []string{"*/*"}) {
					t.Errorf("Accept: %q %q", ev.Headers["Accept"], ev.MultiValueHeaders["Accept"])
				}
				if ev.Headers["Host"] != "e1.svc.localhost:8080" || !reflect.DeepEqual(ev.MultiValueHeaders["Host"], []string{"e1.svc.localhost:8080"}) {
					t.Errorf("Host: %q %q", ev.Headers["Host"], ev.MultiValueHeaders["Host"])
				}
				if _, ok := ev.Headers["X-Empty"]; ok {
					t.Errorf("a header without values is in the event: %v", ev.Headers)
				}
				if ev.QueryStringParameters != nil || ev.MultiValueQueryStringParameters != nil {
					t.Errorf("no query string, yet %v %v", ev.QueryStringParameters, ev.MultiValueQueryStringParameters)
				}
				if ev.Body != "" || ev.IsBase64Encoded {
					t.Errorf("body %q base64 %v; want none", ev.Body, ev.IsBase64Encoded)
				}
			}},
		{name: "query strings", method: "GET", url: "/hello?a=1&a=2&b=%3Cx%3E&empty=",
			check: func(t *testing.T, ev events.APIGatewayProxyRequest) {
				if want := map[string]string{"a": "2", "b": "<x>", "empty": ""}; !reflect.DeepEqual(ev.QueryStringParameters, want) {
					t.Errorf("queryStringParameters %v; want %v", ev.QueryStringParameters, want)
				}
				if want := map[string][]string{"a": {"1", "2"}, "b": {"<x>"}, "empty": {""}}; !reflect.DeepEqual(ev.MultiValueQueryStringParameters, want) {
					t.Errorf("multiValueQueryStringParameters %v; want %v", ev.MultiValueQueryStringParameters, want)
				}
			}},
		{name: "path parameters and text body", method: "POST", url: "/items/7", body: []byte(`{"a":"<b> é"}`),
			check: func(t *testing.T, ev events.APIGatewayProxyRequest) {
				if ev.Resource != "/items/{id}" || ev.Path != "/items/7" || ev.HTTPMethod != "POST" || !reflect.DeepEqual(ev.PathParameters, map[string]string{"id": "7"}) {
					t.Errorf("resource %q path %q method %q params %v", ev.Resource, ev.Path, ev.HTTPMethod, ev.PathParameters)
				}
				if ev.Body != `{"a":"<b> é"}` || ev.IsBase64Encoded {
					t.Errorf("body %q base64 %v", ev.Body, ev.IsBase64Encoded)
				}
			}},
		{name: "binary body is base64", method: "PUT", url: "/items/7", body: binary,
			check: func(t *testing.T, ev events.APIGatewayProxyRequest) {
				if ev.Body != base64.StdEncoding.EncodeToString(binary) || !ev.IsBase64Encoded {
					t.Errorf("body %q base64 %v", ev.Body, ev.IsBase64Encoded)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := &recordingInvoker{}
			g := New(inv, nil)
			env := Environment{ID: "e1", Service: "svc"}
			for _, s := range []string{"GET /hello", "ANY /items/{id}"} {
				rt, err := ParseRoute(s)
				if err != nil {
					t.Fatal(err)
				}
				env.Routes = append(env.Routes, rt)
			}
			if err := g.Set(env); err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(tc.method, "http://e1.svc.localhost:8080"+tc.url, strings.NewReader(string(tc.body)))
			r.RemoteAddr = "192.0.2.7:51234"
			r.Header.Set("User-Agent", "test-agent")
			for k, v := range tc.header {
				r.Header[k] = v
			}
			w := httptest.NewRecorder()
			before := time.Now().UnixMilli()
			g.ServeHTTP(w, r)
			if w.Code != http.StatusOK || len(inv.payloads) != 1 {
				t.Fatalf("status %d (%s), %d invokes", w.Code, w.Body, len(inv.payloads))
			}
			var ev events.APIGatewayProxyRequest
			if err := json.Unmarshal(inv.payloads[0], &ev); err != nil {
				t.Fatalf("event %s: %v", inv.payloads[0], err)
			}
			rc := ev.RequestContext
			if rc.Stage != "e1" || rc.RequestID == "" || rc.RequestID != w.Header().Get("X-Amzn-Requestid") || rc.HTTPMethod != tc.method ||
				rc.ResourcePath != ev.Resource || rc.Path != "/e1"+ev.Path || rc.DomainName != "e1.svc.localhost:8080" || rc.APIID != "sandbox" ||
				rc.Protocol != "HTTP/1.1" || rc.Identity.SourceIP != "192.0.2.7" || rc.Identity.UserAgent != "test-agent" ||
				rc.RequestTimeEpoch < before || rc.RequestTimeEpoch > time.Now().UnixMilli() {
				t.Errorf("request context %+v (response request id %q)", rc, w.Header().Get("X-Amzn-Requestid"))
			}
			if at, err := time.Parse("02/Jan/2006:15:04:05 -0700", rc.RequestTime); err != nil || at.Unix() != rc.RequestTimeEpoch/1000 {
				t.Errorf("requestTime %q (%v) is not requestTimeEpoch %d", rc.RequestTime, err, rc.RequestTimeEpoch)
			}
			if ev.Headers["User-Agent"] != "test-agent" {
				t.Errorf("User-Agent header %q", ev.Headers["User-Agent"])
			}
			tc.check(t, ev)
		})
	}
}

// TestProxyResponse: the function's proxy response as the client gets it,
// and a malformed one as API Gateway answers it (502).
func TestProxyResponse(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		status    int
		body      string
		headers   http.Header
	}{
		{"plain", `{"statusCode":201,"headers":{"Content-Type":"text/plain","x-lower":"v"},"body":"hi"}`, 201, "hi",
			http.Header{"Content-Type": {"text/plain"}, "X-Lower": {"v"}}},
		{"multi-value headers win", `{"statusCode":200,"headers":{"X-A":"single","X-B":"b"},"multiValueHeaders":{"X-A":["1","2"],"Set-Cookie":["a=1","b=2"]},"body":""}`, 200, "",
			http.Header{"X-A": {"1", "2"}, "X-B": {"b"}, "Set-Cookie": {"a=1", "b=2"}, "Content-Type": {"application/json"}}},
		{"base64 body", `{"statusCode":200,"headers":{"Content-Type":"application/octet-stream"},"body":"/wD+","isBase64Encoded":true}`, 200, "\xff\x00\xfe",
			http.Header{"Content-Type": {"application/octet-stream"}}},
		{"escapes", `{"statusCode":404,"body":"\u003cb\u003e \"q\" \ud83d\ude42\n"}`, 404, "<b> \"q\" 🙂\n", nil},
		{"not JSON", `oops`, 502, `{"message":"Internal server error"}`, nil},
		{"empty", ``, 502, `{"message":"Internal server error"}`, nil},
		{"no status code", `{"body":"x"}`, 502, `{"message":"Internal server error"}`, nil},
		{"null", `null`, 502, `{"message":"Internal server error"}`, nil},
		{"status out of range", `{"statusCode":600,"body":"x"}`, 502, `{"message":"Internal server error"}`, nil},
		{"status not a number", `{"statusCode":"200","body":"x"}`, 502, `{"message":"Internal server error"}`, nil},
		{"bad base64", `{"statusCode":200,"body":"***","isBase64Encoded":true}`, 502, `{"message":"Internal server error"}`, nil},
		{"trailing data", `{"statusCode":200,"body":"x"} {}`, 502, `{"message":"Internal server error"}`, nil},
		{"truncated", `{"statusCode":200,"body":"x`, 502, `{"message":"Internal server error"}`, nil},
		{"array", `[{"statusCode":200}]`, 502, `{"message":"Internal server error"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := New(cannedInvoker{[]byte(tc.out)}, nil)
			if err := g.Set(Environment{ID: "e1", Service: "svc"}); err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			g.ServeHTTP(w, httptest.NewRequest("GET", "http://e1.svc.localhost/x", nil))
			if w.Code != tc.status || w.Body.String() != tc.body {
				t.Fatalf("got %d %q; want %d %q", w.Code, w.Body.String(), tc.status, tc.body)
			}
			for k, v := range tc.headers {
				if got := w.Result().Header.Values(k); !reflect.DeepEqual(got, v) {
					t.Errorf("header %s = %q; want %q", k, got, v)
				}
			}
			if w.Header().Get("X-Amzn-Requestid") == "" {
				t.Error("no X-Amzn-Requestid")
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	g := New(nil, nil)
	g.seq.Store(0xabc - 1)
	if got, want := g.requestID(), g.ridPrefix+"-000000000abc"; got != want {
		t.Errorf("requestID = %q; want %q", got, want)
	}
}

func TestIsLabelMatchesHostPart(t *testing.T) {
	for _, s := range []string{"", "a", "-", "a-", "-a", "a-b", "A", "a_b", "0a1b2c3d", "hello-service", "é",
		strings.Repeat("a", 63), strings.Repeat("a", 64), "a.b", "a b"} {
		if got, want := isLabel(s), hostPart.MatchString(s); got != want {
			t.Errorf("isLabel(%q) = %v; hostPart says %v", s, got, want)
		}
	}
}

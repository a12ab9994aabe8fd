package gateway

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
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

func TestBuildEvent(t *testing.T) {
	binary := []byte{0xff, 0x00, 0xfe}
	for _, tc := range []struct {
		name     string
		body     []byte
		wantBody string
		b64      bool
	}{
		{"text", []byte(`{"a":1}`), `{"a":1}`, false},
		{"binary", binary, base64.StdEncoding.EncodeToString(binary), true},
		{"empty", nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://e1.svc.localhost:8080/items/7?a=1&a=2&b=x", strings.NewReader(string(tc.body)))
			r.Header.Add("X-Multi", "one")
			r.Header.Add("X-Multi", "two")
			route, _ := ParseRoute("POST /items/{id}")
			ev := buildEvent(r, &route, map[string]string{"id": "7"}, tc.body, "e1", "rid-1", time.Unix(1700000000, 0))
			if ev.HTTPMethod != "POST" || ev.Path != "/items/7" || ev.Resource != "/items/{id}" || ev.PathParameters["id"] != "7" {
				t.Errorf("method/path/resource: %+v", ev)
			}
			if ev.QueryStringParameters["a"] != "2" || !reflect.DeepEqual(ev.MultiValueQueryStringParameters["a"], []string{"1", "2"}) {
				t.Errorf("query: %v %v", ev.QueryStringParameters, ev.MultiValueQueryStringParameters)
			}
			if ev.Headers["X-Multi"] != "two" || !reflect.DeepEqual(ev.MultiValueHeaders["X-Multi"], []string{"one", "two"}) || ev.Headers["Host"] != "e1.svc.localhost:8080" {
				t.Errorf("headers: %v %v", ev.Headers, ev.MultiValueHeaders)
			}
			if ev.Body != tc.wantBody || ev.IsBase64Encoded != tc.b64 {
				t.Errorf("body %q b64=%v; want %q b64=%v", ev.Body, ev.IsBase64Encoded, tc.wantBody, tc.b64)
			}
			rc := ev.RequestContext
			if rc.Stage != "e1" || rc.RequestID != "rid-1" || rc.Identity.SourceIP == "" || rc.ResourcePath != "/items/{id}" || rc.RequestTimeEpoch != 1700000000000 {
				t.Errorf("request context: %+v", rc)
			}
		})
	}
}

func TestWriteResponse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		out     string
		status  int
		body    string
		headers http.Header
		err     bool
	}{
		{"plain", `{"statusCode":201,"headers":{"Content-Type":"text/plain"},"body":"hi"}`, 201, "hi", http.Header{"Content-Type": {"text/plain"}}, false},
		{"multi wins", `{"statusCode":200,"headers":{"X-A":"single"},"multiValueHeaders":{"X-A":["1","2"],"Set-Cookie":["a=1","b=2"]},"body":""}`, 200, "", http.Header{"X-A": {"1", "2"}, "Set-Cookie": {"a=1", "b=2"}}, false},
		{"base64", `{"statusCode":200,"body":"/wD+","isBase64Encoded":true}`, 200, "\xff\x00\xfe", nil, false},
		{"not json", `oops`, 0, "", nil, true},
		{"no status", `{"body":"x"}`, 0, "", nil, true},
		{"bad base64", `{"statusCode":200,"body":"***","isBase64Encoded":true}`, 0, "", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			err := writeResponse(w, []byte(tc.out))
			if tc.err {
				if err == nil {
					t.Fatal("accepted a malformed proxy response")
				}
				return
			}
			if err != nil || w.Code != tc.status || w.Body.String() != tc.body {
				t.Fatalf("got %d %q %v; want %d %q", w.Code, w.Body.String(), err, tc.status, tc.body)
			}
			for k, v := range tc.headers {
				if got := w.Result().Header.Values(k); !reflect.DeepEqual(got, v) {
					t.Errorf("header %s = %v; want %v", k, got, v)
				}
			}
		})
	}
}

package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"preview-environments/previewctl/pkg/sandbox/lambda"
)

func siteRoute(t *testing.T, key string, in Integration) SiteRoute {
	t.Helper()
	r, err := ParseRoute(key)
	if err != nil {
		t.Fatal(err)
	}
	return SiteRoute{Route: r, Integration: in}
}

func TestSiteResolution(t *testing.T) {
	ok := func(fn string) Integration {
		return Integration{Type: "AWS_PROXY", Function: fn, Authorization: "NONE"}
	}
	sites := func(t *testing.T) []Site {
		return []Site{{
			Domain: "0a1b2c3d.hello-service.localhost",
			Mappings: []Mapping{
				{BasePath: "", APIID: "api1", Stage: "0a1b2c3d", Routes: []SiteRoute{
					siteRoute(t, "GET /", ok("fn-root")),
					siteRoute(t, "GET /hello", ok("fn-hello")),
					siteRoute(t, "ANY /items/{id}", ok("fn-items")),
					siteRoute(t, "GET /denied", Integration{Type: "AWS_PROXY", Function: "fn", Authorization: "NONE", Denied: "no permission"}),
					siteRoute(t, "GET /mock", Integration{Type: "MOCK", Authorization: "NONE"}),
					siteRoute(t, "GET /iam", Integration{Type: "AWS_PROXY", Function: "fn", Authorization: "AWS_IAM"}),
					siteRoute(t, "GET /gone", ok("missing")),
				}},
				{BasePath: "/v2/", APIID: "api2", Stage: "prod", Routes: []SiteRoute{
					siteRoute(t, "GET /", ok("fn-v2-root")),
					siteRoute(t, "GET /hello", ok("fn-v2")),
				}},
			},
		}, {
			Domain:   "only-v1.example.test",
			Mappings: []Mapping{{BasePath: "v1", APIID: "api3", Stage: "s", Routes: []SiteRoute{siteRoute(t, "GET /", ok("fn-v1"))}}},
		}}
	}
	for _, tc := range []struct {
		name, method, host, path string
		status                   int
		function                 string // invoked, or "" for none
		message                  string // gateway's own answer
		stage                    string
	}{
		{"root", "GET", "0a1b2c3d.hello-service.localhost:8080", "/", 200, "fn-root", "", "0a1b2c3d"},
		{"route", "GET", "0a1b2c3d.hello-service.localhost:8080", "/hello", 200, "fn-hello", "", "0a1b2c3d"},
		{"host case and trailing dot", "GET", "0A1B2C3D.Hello-Service.LOCALHOST.:80", "/hello/", 200, "fn-hello", "", "0a1b2c3d"},
		{"ANY with a parameter", "DELETE", "0a1b2c3d.hello-service.localhost", "/items/7", 200, "fn-items", "", "0a1b2c3d"},
		{"no such method", "POST", "0a1b2c3d.hello-service.localhost", "/hello", 403, "", "Missing Authentication Token", ""},
		{"no such resource", "GET", "0a1b2c3d.hello-service.localhost", "/nope", 403, "", "Missing Authentication Token", ""},
		{"base path", "GET", "0a1b2c3d.hello-service.localhost", "/v2/hello", 200, "fn-v2", "", "prod"},
		{"base path itself", "GET", "0a1b2c3d.hello-service.localhost", "/v2", 200, "fn-v2-root", "", "prod"},
		{"base path prefix is not a segment", "GET", "0a1b2c3d.hello-service.localhost", "/v2x", 403, "", "Missing Authentication Token", ""},
		{"no base path mapped", "GET", "only-v1.example.test", "/other", 403, "", "Forbidden", ""},
		{"missing permission", "GET", "0a1b2c3d.hello-service.localhost", "/denied", 500, "", "Internal server error", ""},
		{"unsupported integration", "GET", "0a1b2c3d.hello-service.localhost", "/mock", 500, "", "Internal server error", ""},
		{"authorization not emulated", "GET", "0a1b2c3d.hello-service.localhost", "/iam", 403, "", "Missing Authentication Token", ""},
		{"function deleted", "GET", "0a1b2c3d.hello-service.localhost", "/gone", 500, "missing", "Internal server error", ""},
		{"not a site, not an environment", "GET", "ffffffff.hello-service.localhost", "/", 404, "", "no environment ffffffff for service hello-service", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := &recordingInvoker{}
			var logs bytes.Buffer
			g := New(missingFunction{inv}, slog.New(slog.NewTextHandler(&logs, nil)))
			if err := g.SetSites(sites(t)); err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			g.ServeHTTP(w, httptest.NewRequest(tc.method, "http://"+tc.host+tc.path, nil))
			if w.Code != tc.status {
				t.Fatalf("status %d %s; want %d", w.Code, w.Body, tc.status)
			}
			got := ""
			if len(inv.calls) > 0 {
				got = inv.calls[0]
			}
			if got != tc.function {
				t.Fatalf("invoked %q; want %q", got, tc.function)
			}
			if tc.message != "" {
				var m struct{ Message string }
				json.Unmarshal(w.Body.Bytes(), &m)
				if m.Message != tc.message {
					t.Fatalf("message %q; want %q", m.Message, tc.message)
				}
			}
			if tc.status == 500 && !strings.Contains(logs.String(), "integration failed") {
				t.Fatalf("a 500 without a log line saying why: %q", logs.String())
			}
			if tc.stage != "" {
				var ev struct {
					RequestContext struct{ Stage string } `json:"requestContext"`
					Path           string                 `json:"path"`
				}
				if err := json.Unmarshal(inv.payloads[0], &ev); err != nil || ev.RequestContext.Stage != tc.stage || ev.Path != tc.path {
					t.Fatalf("event stage %q path %q (%v); want %q %q", ev.RequestContext.Stage, ev.Path, err, tc.stage, tc.path)
				}
			}
		})
	}
}

// missingFunction makes the function "missing" not exist.
type missingFunction struct{ *recordingInvoker }

func (m missingFunction) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	out, err := m.recordingInvoker.Invoke(ctx, function, payload)
	if function == "missing" {
		return nil, lambda.ErrNotFound
	}
	return out, err
}

func TestSetSitesErrors(t *testing.T) {
	r := func(k string) SiteRoute { rt, _ := ParseRoute(k); return SiteRoute{Route: rt} }
	for _, tc := range []struct {
		name  string
		sites []Site
		want  string
	}{
		{"empty domain", []Site{{Domain: ""}}, "empty domain"},
		{"duplicate domain", []Site{{Domain: "a.b.localhost"}, {Domain: "A.B.localhost"}}, "declared twice"},
		{"duplicate base path", []Site{{Domain: "a.b", Mappings: []Mapping{{BasePath: "v1"}, {BasePath: "/v1"}}}}, "mapped twice"},
		{"duplicate route", []Site{{Domain: "a.b", Mappings: []Mapping{{Routes: []SiteRoute{r("GET /"), r("get /")}}}}}, "declared twice"},
		{"bad route", []Site{{Domain: "a.b", Mappings: []Mapping{{Routes: []SiteRoute{{Route: Route{Method: "FETCH", Path: "/"}}}}}}}, "not one of API Gateway's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := New(&recordingInvoker{}, nil).SetSites(tc.sites)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("SetSites = %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

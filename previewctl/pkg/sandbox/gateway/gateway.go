// Package gateway is the sandbox's API Gateway (REST API, Lambda proxy
// integration) stand-in: it routes http://<id>.<service>.localhost:<port>/...
// to the environment's function, building events.APIGatewayProxyRequest from
// the HTTP request and mapping events.APIGatewayProxyResponse back, both
// with encoding/json. (A hand-written codec for the two, measured against
// encoding/json in the same runs for issue 16 item 5, was 2 to 4 times
// faster in isolation but worth only about 2% of gateway req/s end to end,
// less than one run's noise, so it was removed.)
//
// Answers that come from the gateway itself, as API Gateway gives them:
//   - host names no environment: 404 {"message":"no environment <id> for service <service>"}
//   - method or path without a route: 403 {"message":"Missing Authentication Token"}
//     (what a REST API answers for an undefined resource or method)
//   - function error, crash or malformed response: 502 {"message":"Internal server error"}
//   - function timeout: 504 {"message":"Endpoint request timed out"}
//   - a body over 10 MB, or a proxy event over Lambda's 6 MB invocation limit
//     (headers and a binary body's base64 included): 413 {"message":"Request Too Long..."}
//
// Hosts registered as custom domain names through the API Gateway model
// (resolver.go) are resolved through it first; see Site.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"preview-environments/previewctl/pkg/sandbox/lambda"
)

// MaxBodyBytes is API Gateway's payload limit (10 MB).
const MaxBodyBytes = 10 << 20

// MaxEventBytes is Lambda's limit on a synchronous invocation's payload (6 MB):
// the proxy event, so headers and a binary body's base64 count too. A body
// under MaxBodyBytes can still produce a bigger event; the emulator would
// refuse it and the caller would see a 502 that blames the function.
const MaxEventBytes = 6 << 20

// Invoker runs a function by name (the environment ID); *lambda.Manager is one.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// Environment is what the gateway serves for one environment.
type Environment struct {
	ID       string  `json:"id"`
	Service  string  `json:"service"`
	Function string  `json:"function"`
	Routes   []Route `json:"routes"`
}

// DefaultRoutes are used when an environment declares none: a catch-all,
// like an API with "ANY /" and "ANY /{proxy+}".
func DefaultRoutes() []Route {
	a, _ := ParseRoute("ANY /")
	b, _ := ParseRoute("ANY /{proxy+}")
	return []Route{a, b}
}

// Validate checks e and compiles its routes.
func (e *Environment) Validate() error {
	if !hostPart.MatchString(e.ID) {
		return fmt.Errorf("environment id %q: want a DNS label (lower-case letters, digits, '-')", e.ID)
	}
	if !hostPart.MatchString(e.Service) {
		return fmt.Errorf("service %q: want a DNS label (lower-case letters, digits, '-')", e.Service)
	}
	if e.Function == "" {
		e.Function = e.ID
	}
	if len(e.Routes) == 0 {
		e.Routes = DefaultRoutes()
	}
	seen := map[string]bool{}
	for i := range e.Routes {
		if err := e.Routes[i].compile(); err != nil {
			return fmt.Errorf("environment %s: %w", e.ID, err)
		}
		if k := e.Routes[i].String(); seen[k] {
			return fmt.Errorf("environment %s: route %s declared twice", e.ID, k)
		} else {
			seen[k] = true
		}
	}
	// Most specific first, so the first match wins.
	sort.SliceStable(e.Routes, func(i, j int) bool { return e.Routes[i].specificity() > e.Routes[j].specificity() })
	return nil
}

// Gateway serves the environments' hosts. Reads are lock-free: the table is
// replaced whole on every change.
type Gateway struct {
	inv       Invoker
	log       *slog.Logger
	mu        sync.Mutex // serialises writers
	table     atomic.Pointer[map[string]*Environment]
	sites     atomic.Pointer[map[string]*Site] // custom domain names (resolver.go)
	seq       atomic.Uint64
	ridPrefix string
}

// New returns a gateway that invokes functions through inv.
func New(inv Invoker, log *slog.Logger) *Gateway {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var b [4]byte
	rand.Read(b[:])
	g := &Gateway{inv: inv, log: log, ridPrefix: hex.EncodeToString(b[:])}
	empty := map[string]*Environment{}
	g.table.Store(&empty)
	noSites := map[string]*Site{}
	g.sites.Store(&noSites)
	return g
}

// Set adds or replaces an environment's routes.
func (g *Gateway) Set(e Environment) error {
	if err := e.Validate(); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	old := *g.table.Load()
	next := make(map[string]*Environment, len(old)+1)
	for k, v := range old {
		if v.ID != e.ID {
			next[k] = v
		}
	}
	next[e.ID+"."+e.Service] = &e
	g.table.Store(&next)
	return nil
}

// Remove drops an environment; it reports whether there was one.
func (g *Gateway) Remove(id string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := *g.table.Load()
	next := make(map[string]*Environment, len(old))
	found := false
	for k, v := range old {
		if v.ID == id {
			found = true
			continue
		}
		next[k] = v
	}
	g.table.Store(&next)
	return found
}

// Lookup returns the environment for id and service.
func (g *Gateway) Lookup(id, service string) (*Environment, bool) {
	e, ok := (*g.table.Load())[id+"."+service]
	return e, ok
}

// ParseHost splits "<id>.<service>.localhost[:port]" into its labels.
func ParseHost(host string) (id, service string, ok bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	rest, found := strings.CutSuffix(host, ".localhost")
	if !found {
		return "", "", false
	}
	id, service, found = strings.Cut(rest, ".")
	if !found || !isLabel(id) || !isLabel(service) {
		return "", "", false
	}
	return id, service, true
}

// IsGatewayHost reports whether a request's Host belongs to the gateway.
func IsGatewayHost(host string) bool {
	_, _, ok := ParseHost(host)
	return ok
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rid := g.requestID()
	// Canonical key, assigned directly: Set would canonicalise on every request.
	w.Header()["X-Amzn-Requestid"] = []string{rid}
	if site := g.site(r.Host); site != nil {
		g.serveSite(w, r, site, rid, start)
		return
	}
	id, service, ok := ParseHost(r.Host)
	if !ok {
		writeMessage(w, http.StatusNotFound, fmt.Sprintf("host %q is not <id>.<service>.localhost", r.Host))
		return
	}
	env, ok := g.Lookup(id, service)
	if !ok {
		writeMessage(w, http.StatusNotFound, fmt.Sprintf("no environment %s for service %s", id, service))
		return
	}
	path := r.URL.Path
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	var segs []string
	if path != "/" {
		segs = strings.Split(path[1:], "/")
	}
	var route *Route
	var params map[string]string
	for i := range env.Routes {
		if p, ok := env.Routes[i].match(r.Method, segs); ok {
			route, params = &env.Routes[i], p
			break
		}
	}
	if route == nil {
		writeMessage(w, http.StatusForbidden, "Missing Authentication Token")
		return
	}
	g.proxy(w, r, rid, start, route, params, &proxyTarget{stage: env.ID, function: env.Function, env: env.ID, service: env.Service})
}

// proxyTarget is where proxy sends a request. A struct rather than a
// closure and variadic log attributes: those would allocate on every request.
type proxyTarget struct {
	stage, function string
	// env and service name the environment in answers and logs.
	env, service string
	// managed is a route of the API Gateway model (resolver.go): a missing
	// function is then a broken integration (500), as API Gateway answers,
	// not an unknown environment (404).
	managed bool
	domain  string
}

func (t *proxyTarget) logAttrs() []any {
	if t.managed {
		return []any{"env", t.env, "service", t.service, "domain", t.domain, "function", t.function}
	}
	return []any{"env", t.env, "service", t.service}
}

// proxy sends the request to t's function as a proxy event and writes the
// function's answer.
func (g *Gateway) proxy(w http.ResponseWriter, r *http.Request, rid string, start time.Time, route *Route, params map[string]string, t *proxyTarget) {
	stage, function := t.stage, t.function
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			writeMessage(w, http.StatusRequestEntityTooLarge, "Request Too Long")
			return
		}
	}
	if len(body) > MaxEventBytes {
		// Over the limit whatever its encoding: no need to build the event.
		g.tooLarge(w, rid, len(body), t)
		return
	}
	ev := buildEvent(r, route, params, body, stage, rid, start)
	payload, err := json.Marshal(&ev)
	if err != nil {
		// Strings, string maps, numbers and booleans: cannot happen.
		g.fail(w, rid, http.StatusInternalServerError, "Internal server error", fmt.Errorf("encode proxy event: %w", err), t)
		return
	}
	if len(payload) > MaxEventBytes {
		g.tooLarge(w, rid, len(payload), t)
		return
	}
	out, err := g.inv.Invoke(r.Context(), function, payload)
	if err != nil {
		switch {
		case errors.Is(err, lambda.ErrTimeout):
			g.fail(w, rid, http.StatusGatewayTimeout, "Endpoint request timed out", err, t)
		case errors.Is(err, lambda.ErrNotFound) && t.managed:
			g.fail(w, rid, http.StatusInternalServerError, "Internal server error", fmt.Errorf("integration's function %s: %w", function, err), t)
		case errors.Is(err, lambda.ErrNotFound):
			writeMessage(w, http.StatusNotFound, fmt.Sprintf("no environment %s for service %s", t.env, t.service))
		case r.Context().Err() != nil:
			// The client went away; nobody reads this answer.
			g.log.Info("client gone", append(t.logAttrs(), "request_id", rid, "err", err)...)
		default:
			g.fail(w, rid, http.StatusBadGateway, "Internal server error", err, t)
		}
		return
	}
	if err := writeResponse(w, out); err != nil {
		g.fail(w, rid, http.StatusBadGateway, "Internal server error", err, t)
	}
}

// tooLarge answers 413 for an event (or a body, which is at least as big)
// of n bytes over Lambda's invocation limit.
func (g *Gateway) tooLarge(w http.ResponseWriter, rid string, n int, t *proxyTarget) {
	g.log.Warn("gateway: request over Lambda's payload limit", append(t.logAttrs(), "request_id", rid, "event_bytes", n, "limit", MaxEventBytes)...)
	writeMessage(w, http.StatusRequestEntityTooLarge, fmt.Sprintf(
		"Request Too Long: the Lambda proxy event would be over Lambda's %d-byte invocation payload limit (at least %d bytes; a binary body counts base64-encoded)", MaxEventBytes, n))
}

func (g *Gateway) fail(w http.ResponseWriter, rid string, status int, msg string, err error, t *proxyTarget) {
	g.log.Error("gateway: integration failed", append(t.logAttrs(), "request_id", rid, "status", status, "err", err)...)
	writeMessage(w, status, msg)
}

const hexDigits = "0123456789abcdef"

// requestID is "<prefix>-%012x" of a sequence number, without fmt's cost.
func (g *Gateway) requestID() string {
	var b [32]byte
	n := copy(b[:], g.ridPrefix)
	b[n] = '-'
	n++
	seq := g.seq.Add(1)
	if seq>>48 != 0 {
		return fmt.Sprintf("%s-%012x", g.ridPrefix, seq)
	}
	for i := n + 11; i >= n; i-- {
		b[i] = hexDigits[seq&0xF]
		seq >>= 4
	}
	return string(b[:n+12])
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// buildEvent is the REST API (v1) proxy event: single-value maps hold the
// last value of each header or query parameter, multi-value maps all.
func buildEvent(r *http.Request, route *Route, params map[string]string, body []byte, stage, rid string, now time.Time) events.APIGatewayProxyRequest {
	ev := events.APIGatewayProxyRequest{
		Resource:       route.Path,
		Path:           r.URL.Path,
		HTTPMethod:     r.Method,
		PathParameters: params,
	}
	if len(r.Header) > 0 || r.Host != "" {
		ev.Headers = make(map[string]string, len(r.Header)+1)
		ev.MultiValueHeaders = make(map[string][]string, len(r.Header)+1)
		for k, v := range r.Header {
			if len(v) > 0 {
				ev.Headers[k] = v[len(v)-1]
				ev.MultiValueHeaders[k] = v
			}
		}
		ev.Headers["Host"] = r.Host
		ev.MultiValueHeaders["Host"] = []string{r.Host}
	}
	// Without a query string, skip Query: it allocates an empty map.
	if r.URL.RawQuery != "" {
		if q := r.URL.Query(); len(q) > 0 {
			ev.QueryStringParameters = make(map[string]string, len(q))
			ev.MultiValueQueryStringParameters = q
			for k, v := range q {
				ev.QueryStringParameters[k] = v[len(v)-1]
			}
		}
	}
	if len(body) > 0 {
		// Binary media types are not configured per API here: any body that
		// is not UTF-8 text is passed base64-encoded, as API Gateway does
		// for a binary media type.
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	ev.RequestContext = events.APIGatewayProxyRequestContext{
		AccountID:        "000000000000",
		ResourceID:       route.String(),
		Stage:            stage,
		RequestID:        rid,
		ResourcePath:     route.Path,
		HTTPMethod:       r.Method,
		APIID:            "sandbox",
		Path:             "/" + stage + r.URL.Path,
		Protocol:         r.Proto,
		DomainName:       r.Host,
		RequestTime:      now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
		RequestTimeEpoch: now.UnixMilli(),
		Identity: events.APIGatewayRequestIdentity{
			SourceIP:  ip,
			UserAgent: r.UserAgent(),
		},
	}
	return ev
}

// writeResponse maps the function's proxy response onto w. API Gateway
// merges headers and multiValueHeaders; for a name in both, the multi-value
// list wins.
func writeResponse(w http.ResponseWriter, out []byte) error {
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return fmt.Errorf("malformed Lambda proxy response: %w", err)
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("malformed Lambda proxy response: statusCode %d", resp.StatusCode)
	}
	var body []byte
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("malformed Lambda proxy response: base64 body: %w", err)
		}
		body = b
	}
	h := w.Header()
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		if _, ok := resp.MultiValueHeaders[k]; !ok {
			h.Set(k, v)
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(resp.StatusCode)
	var err error
	if resp.IsBase64Encoded {
		_, err = w.Write(body)
	} else {
		_, err = io.WriteString(w, resp.Body) // no copy of the body
	}
	if err != nil {
		// Headers are gone already; only the log can hear about it.
		return nil
	}
	return nil
}

// isLabel is hostPart.MatchString without the regexp engine (ParseHost runs
// twice per gateway request): 1 to 63 of [a-z0-9-], not starting or ending
// with '-'.
func isLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

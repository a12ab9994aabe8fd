package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Site is one custom domain name of the API Gateway model that the sandbox's
// control plane keeps (pkg/sandbox, apigateway.go), compiled down to what a
// request needs. The gateway resolves a request the way API Gateway does:
// Host (port stripped) -> domain name -> base path mapping -> API and stage ->
// the stage's deployment (a snapshot of methods and integrations taken when
// it was created) -> route -> integration -> Lambda function.
//
// The control plane compiles whole Sites rather than the gateway reading the
// model, so a request costs one map lookup and no database access, and a
// change is swapped in atomically like the environments table.
type Site struct {
	// Domain is the custom domain name (lower case, no port).
	Domain string
	// Env and Service name the site in logs: the domain's first two labels,
	// which for <env>.<service>.localhost are the environment and service.
	Env, Service string
	Mappings     []Mapping
}

// Mapping is a base path mapping: requests under BasePath go to Stage of
// the API APIID.
type Mapping struct {
	// BasePath is "" for API Gateway's "(none)": every path.
	BasePath string
	APIID    string
	Stage    string
	// Routes come from the stage's deployment snapshot.
	Routes []SiteRoute
}

// SiteRoute is a deployed method with its integration.
type SiteRoute struct {
	Route       Route
	Integration Integration
}

// Integration is what a deployed method invokes, resolved by the control
// plane when it compiled the site.
type Integration struct {
	// Type is the integration type; only AWS_PROXY (Lambda proxy) is served.
	Type string
	// Function is the Lambda function the integration's uri names; empty
	// when the uri names none.
	Function string
	// Authorization is the method's authorization type; only NONE is served
	// (the sandbox verifies neither signatures nor authorizers).
	Authorization string
	// Denied, when not empty, says why API Gateway may not invoke Function,
	// typically that no Lambda permission for apigateway.amazonaws.com matches
	// the method's source ARN. API Gateway then answers 500.
	Denied string
}

// SetSites replaces every custom domain the gateway serves.
func (g *Gateway) SetSites(sites []Site) error {
	next := make(map[string]*Site, len(sites))
	for i := range sites {
		s := sites[i]
		if err := s.compile(); err != nil {
			return err
		}
		if _, dup := next[s.Domain]; dup {
			return fmt.Errorf("domain name %s: declared twice", s.Domain)
		}
		next[s.Domain] = &s
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sites.Store(&next)
	return nil
}

// ValidateSite checks s as SetSites would, without serving it, so a caller
// can leave out one bad site instead of failing them all.
func ValidateSite(s Site) error { return s.compile() }

// HasSite reports whether host (with or without a port) is a custom domain
// name the gateway serves.
func (g *Gateway) HasSite(host string) bool { return g.site(host) != nil }

func (g *Gateway) site(host string) *Site {
	m := *g.sites.Load()
	if len(m) == 0 {
		return nil
	}
	return m[canonicalHost(host)]
}

// canonicalHost strips the port and a trailing dot and lower-cases, without
// allocating for a host that is already lower case.
func canonicalHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

func (s *Site) compile() error {
	s.Domain = canonicalHost(s.Domain)
	if s.Domain == "" {
		return errors.New("site: empty domain name")
	}
	if s.Env == "" {
		s.Env, s.Service = DomainLabels(s.Domain)
	}
	// Copies: compiling sorts, and the caller keeps its slices.
	s.Mappings = append([]Mapping(nil), s.Mappings...)
	seen := map[string]bool{}
	for i := range s.Mappings {
		m := &s.Mappings[i]
		m.Routes = append([]SiteRoute(nil), m.Routes...)
		m.BasePath = strings.Trim(m.BasePath, "/")
		if seen[m.BasePath] {
			return fmt.Errorf("domain name %s: base path %q mapped twice", s.Domain, m.BasePath)
		}
		seen[m.BasePath] = true
		keys := map[string]bool{}
		for j := range m.Routes {
			rt := &m.Routes[j].Route
			if err := rt.compile(); err != nil {
				return fmt.Errorf("domain name %s, stage %s of API %s: %w", s.Domain, m.Stage, m.APIID, err)
			}
			if k := rt.String(); keys[k] {
				return fmt.Errorf("domain name %s, stage %s of API %s: route %s declared twice", s.Domain, m.Stage, m.APIID, k)
			} else {
				keys[k] = true
			}
		}
		// Most specific first, so the first match wins (as Environment.Validate).
		sort.SliceStable(m.Routes, func(a, b int) bool {
			return m.Routes[a].Route.specificity() > m.Routes[b].Route.specificity()
		})
	}
	// Longest base path first: "v1/admin" before "v1" before "(none)".
	sort.SliceStable(s.Mappings, func(a, b int) bool { return len(s.Mappings[a].BasePath) > len(s.Mappings[b].BasePath) })
	return nil
}

// DomainLabels returns a domain's first two labels (environment and service
// for <env>.<service>.localhost); service is empty for a one-label name.
func DomainLabels(domain string) (env, service string) {
	env, rest, _ := strings.Cut(domain, ".")
	service, _, _ = strings.Cut(rest, ".")
	return env, service
}

// mapping picks the base path mapping for path and returns the path below
// the base path ("/" for the base path itself).
func (s *Site) mapping(path string) (*Mapping, string) {
	for i := range s.Mappings {
		m := &s.Mappings[i]
		if m.BasePath == "" {
			return m, path
		}
		rest, ok := strings.CutPrefix(path, "/"+m.BasePath)
		if ok && (rest == "" || rest[0] == '/') {
			if rest == "" {
				rest = "/"
			}
			return m, rest
		}
	}
	return nil, ""
}

func (g *Gateway) serveSite(w http.ResponseWriter, r *http.Request, site *Site, rid string, start time.Time) {
	m, path := site.mapping(r.URL.Path)
	if m == nil {
		// What a custom domain answers for a path no base path maps.
		writeMessage(w, http.StatusForbidden, "Forbidden")
		return
	}
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	var segs []string
	if path != "/" {
		segs = strings.Split(path[1:], "/")
	}
	var sr *SiteRoute
	var params map[string]string
	for i := range m.Routes {
		if p, ok := m.Routes[i].Route.match(r.Method, segs); ok {
			sr, params = &m.Routes[i], p
			break
		}
	}
	if sr == nil {
		writeMessage(w, http.StatusForbidden, "Missing Authentication Token")
		return
	}
	in := &sr.Integration
	t := proxyTarget{stage: m.Stage, function: in.Function, env: site.Env, service: site.Service, managed: true, domain: site.Domain}
	switch {
	case in.Authorization != "NONE":
		// An unsigned request to an AWS_IAM method gets this from API
		// Gateway; the sandbox has no signatures or authorizers to check.
		g.log.Warn("gateway: method authorization is not emulated", append(t.logAttrs(), "request_id", rid, "route", sr.Route.String(), "authorization", in.Authorization)...)
		writeMessage(w, http.StatusForbidden, "Missing Authentication Token")
	case in.Type != "AWS_PROXY":
		g.fail(w, rid, http.StatusInternalServerError, "Internal server error",
			fmt.Errorf("route %s: integration type %s is not served by the sandbox (only AWS_PROXY)", sr.Route.String(), in.Type), &t)
	case in.Function == "":
		g.fail(w, rid, http.StatusInternalServerError, "Internal server error",
			fmt.Errorf("route %s: the integration's uri names no Lambda function", sr.Route.String()), &t)
	case in.Denied != "":
		g.fail(w, rid, http.StatusInternalServerError, "Internal server error",
			fmt.Errorf("route %s: API Gateway may not invoke function %s: %s", sr.Route.String(), in.Function, in.Denied), &t)
	default:
		g.proxy(w, r, rid, start, &sr.Route, params, &t)
	}
}

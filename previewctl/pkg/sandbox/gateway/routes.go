package gateway

import (
	"fmt"
	"regexp"
	"strings"
)

// Route is one API Gateway REST API method on a resource, e.g. "GET /hello",
// "ANY /{proxy+}" or "POST /items/{id}".
type Route struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	segs   []string
}

var (
	methods  = map[string]bool{"ANY": true, "GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}
	literal  = regexp.MustCompile(`^[A-Za-z0-9._~:@!$&'()*,;=-]+$`)
	param    = regexp.MustCompile(`^\{[A-Za-z_][A-Za-z0-9_]*\+?\}$`)
	hostPart = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// ParseRoute parses "METHOD /path" (API Gateway's route key syntax).
func ParseRoute(s string) (Route, error) {
	m, p, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return Route{}, fmt.Errorf("route %q: want \"METHOD /path\"", s)
	}
	r := Route{Method: strings.ToUpper(m), Path: strings.TrimSpace(p)}
	return r, r.compile()
}

func (r *Route) compile() error {
	r.Method = strings.ToUpper(r.Method)
	if !methods[r.Method] {
		return fmt.Errorf("route %s %s: method %q is not one of API Gateway's", r.Method, r.Path, r.Method)
	}
	if !strings.HasPrefix(r.Path, "/") {
		return fmt.Errorf("route %s %s: path must start with /", r.Method, r.Path)
	}
	r.segs = nil
	if r.Path == "/" {
		return nil
	}
	parts := strings.Split(r.Path[1:], "/")
	for i, s := range parts {
		switch {
		case param.MatchString(s):
			if strings.HasSuffix(s, "+}") && i != len(parts)-1 {
				return fmt.Errorf("route %s %s: greedy %s must be the last segment", r.Method, r.Path, s)
			}
		case literal.MatchString(s):
		default:
			return fmt.Errorf("route %s %s: segment %q is not a valid resource path part", r.Method, r.Path, s)
		}
	}
	r.segs = parts
	return nil
}

func (r Route) String() string { return r.Method + " " + r.Path }

// match reports whether method and path hit r, with the path parameters.
// As in API Gateway, a greedy {name+} needs at least one segment.
func (r *Route) match(method string, segs []string) (map[string]string, bool) {
	if r.Method != "ANY" && r.Method != method {
		return nil, false
	}
	var params map[string]string
	for i, s := range r.segs {
		if strings.HasPrefix(s, "{") {
			name := s[1 : len(s)-1]
			if strings.HasSuffix(name, "+") {
				if i >= len(segs) {
					return nil, false
				}
				if params == nil {
					params = map[string]string{}
				}
				params[strings.TrimSuffix(name, "+")] = strings.Join(segs[i:], "/")
				return params, true
			}
			if i >= len(segs) || segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[name] = segs[i]
			continue
		}
		if i >= len(segs) || segs[i] != s {
			return nil, false
		}
	}
	return params, len(segs) == len(r.segs)
}

// specificity orders candidate routes like API Gateway: literal segments
// beat parameters, parameters beat greedy ones, an exact method beats ANY.
func (r *Route) specificity() int {
	n := 0
	for _, s := range r.segs {
		switch {
		case strings.HasSuffix(s, "+}"):
			n += 1
		case strings.HasPrefix(s, "{"):
			n += 10
		default:
			n += 100
		}
	}
	n *= 2
	if r.Method != "ANY" {
		n++
	}
	return n
}

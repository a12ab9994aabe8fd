// Package prstatetest serves GitHub's "get a pull request" endpoint for
// tests, shaped like the real API (JSON body, 404 with a message, 401 for a
// wrong token), so it can sit in front of the contents-API test server.
package prstatetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Server holds PR states keyed by lower(owner)/lower(repo)#n.
type Server struct {
	// BasePath is the API prefix (contentsapi.BasePath for enterprise URLs).
	BasePath string
	// Token, when set, is required as a bearer token.
	Token string

	mu     sync.Mutex
	states map[string]string
	hits   map[string]int
}

// New returns an empty server under basePath.
func New(basePath, token string) *Server {
	return &Server{BasePath: basePath, Token: token, states: map[string]string{}, hits: map[string]int{}}
}

func key(owner, repo string, n int) string {
	return strings.ToLower(owner) + "/" + strings.ToLower(repo) + "#" + strconv.Itoa(n)
}

// Set records a PR's state: "open" or "closed" (merged PRs are "closed").
func (s *Server) Set(owner, repo string, n int, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states[key(owner, repo, n)] = state
}

// Hits is how many times owner/repo#n was asked for.
func (s *Server) Hits(owner, repo string, n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[key(owner, repo, n)]
}

// Match reports whether r is a pull-request request this server answers.
func (s *Server) Match(r *http.Request) bool {
	_, _, _, ok := s.parse(r)
	return ok
}

func (s *Server) parse(r *http.Request) (owner, repo string, n int, ok bool) {
	rest, found := strings.CutPrefix(r.URL.Path, s.BasePath+"/repos/")
	if !found {
		return "", "", 0, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 4 || parts[2] != "pulls" {
		return "", "", 0, false
	}
	n, err := strconv.Atoi(parts[3])
	if err != nil {
		return "", "", 0, false
	}
	return parts[0], parts[1], n, true
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	reply := func(status int, body any) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
	if s.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.Token {
		reply(http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	owner, repo, n, ok := s.parse(r)
	if !ok || r.Method != http.MethodGet {
		reply(http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	s.mu.Lock()
	s.hits[key(owner, repo, n)]++
	state, known := s.states[key(owner, repo, n)]
	s.mu.Unlock()
	if !known {
		reply(http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest/pulls/pulls#get-a-pull-request"})
		return
	}
	reply(http.StatusOK, map[string]any{
		"number":   n,
		"state":    state,
		"merged":   false,
		"html_url": fmt.Sprintf("https://github.com/%s/%s/pull/%d", owner, repo, n),
		"base":     map[string]any{"repo": map[string]any{"name": repo, "owner": map[string]any{"login": owner}}},
	})
}

// Front routes pull-request requests to s and everything else to next
// (the contents-API test server), like one GitHub.
func (s *Server) Front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Match(r) {
			s.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

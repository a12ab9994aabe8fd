// Package envfile is the one model of a preview environment and the one
// place where its identity, file name and HCL file are derived, written,
// read and checked. Render, parse, ls, gc and the sandbox all go through it,
// so an environment is named the same way everywhere.
package envfile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kinds of environment. A PR environment belongs to a pull request (Owner,
// Repo, PR); an on-demand one is created by hand (`previewctl env create`)
// and named by Name. The zero Kind is a PR environment, so PR literals need
// not spell it.
const (
	KindPR       = "pr"
	KindOnDemand = "ondemand"
)

// Environment is one preview environment: the PR it belongs to (or, on
// demand, its name) and what its stack runs. Times are UTC with whole
// seconds, which is what the file holds.
type Environment struct {
	Kind        string    `json:"kind"`
	Name        string    `json:"name,omitempty"`
	Service     string    `json:"service"`
	Owner       string    `json:"owner,omitempty"`
	Repo        string    `json:"repo,omitempty"`
	PR          int       `json:"pr,omitempty"`
	ID          string    `json:"id"`
	CodeVersion string    `json:"code_version"`
	InfraBranch string    `json:"infra_branch"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// DefaultTTL is how long an environment lives after its last render.
const DefaultTTL = 7 * 24 * time.Hour

// DefaultOnDemandTTL is how long an on-demand environment lives unless
// `env create --ttl` or `env extend` says otherwise. Nothing renews it (no
// pushes), so it is shorter than a PR's.
const DefaultOnDemandTTL = 48 * time.Hour

// OnDemandIDPrefix starts every on-demand ID. It is a letter but not a hex
// digit, so no on-demand ID ("o" and 7 hex) can equal a PR ID (8 hex): the
// two sets are disjoint by their first character, and the ID stays a DNS
// label (it is the first label of <id>.<service>.<domain>).
const OnDemandIDPrefix = "o"

// OnDemandID is an on-demand environment's ID: "o" followed by the first 7
// hex characters of sha256("ondemand:" + name), as in
// printf 'o%s' "$(printf '%s' 'ondemand:qa-checkout' | sha256sum | cut -c1-7)".
func OnDemandID(name string) string {
	sum := sha256.Sum256([]byte("ondemand:" + name))
	return OnDemandIDPrefix + hex.EncodeToString(sum[:])[:7]
}

// ID is the environment ID: the first 8 hex characters of
// sha256(lower(owner) + "/" + lower(repo) + "#" + n). The separators make
// the input unambiguous, unlike the original's concatenation.
func ID(owner, repo string, n int) string {
	sum := sha256.Sum256([]byte(strings.ToLower(owner) + "/" + strings.ToLower(repo) + "#" + strconv.Itoa(n)))
	return hex.EncodeToString(sum[:])[:8]
}

// New builds a valid Environment for a PR, deriving the ID and stamping
// created/expires from now and ttl. It returns a *FieldError for bad input.
func New(service, owner, repo string, pr int, codeVersion, infraBranch string, now time.Time, ttl time.Duration) (Environment, error) {
	if err := ValidateTTL(ttl); err != nil {
		return Environment{}, err
	}
	now = now.UTC().Truncate(time.Second)
	e := Environment{
		Kind:        KindPR,
		Service:     service,
		Owner:       owner,
		Repo:        repo,
		PR:          pr,
		CodeVersion: codeVersion,
		InfraBranch: infraBranch,
		CreatedAt:   now,
		ExpiresAt:   now.Add(ttl),
	}
	// The ID is only meaningful once the inputs it hashes are valid.
	if err := e.validateInputs(); err != nil {
		return Environment{}, err
	}
	e.ID = ID(owner, repo, pr)
	return e, e.Validate()
}

// NewOnDemand builds a valid on-demand Environment: named by hand, not tied
// to a PR, with the ID OnDemandID(name). It returns a *FieldError for bad
// input, naming the first bad field in the order the CLI takes them
// (service, name, code-version, infra-branch, ttl).
func NewOnDemand(service, name, codeVersion, infraBranch string, now time.Time, ttl time.Duration) (Environment, error) {
	now = now.UTC().Truncate(time.Second)
	e := Environment{
		Kind:        KindOnDemand,
		Name:        name,
		Service:     service,
		CodeVersion: codeVersion,
		InfraBranch: infraBranch,
		CreatedAt:   now,
		ExpiresAt:   now.Add(ttl),
	}
	if err := e.validateInputs(); err != nil {
		return Environment{}, err
	}
	if err := ValidateTTL(ttl); err != nil {
		return Environment{}, err
	}
	e.ID = OnDemandID(name)
	return e, e.Validate()
}

// OnDemand reports whether e is an on-demand environment.
func (e Environment) OnDemand() bool { return e.Kind == KindOnDemand }

// KindOf is e's kind, KindPR for the zero Kind.
func (e Environment) KindOf() string {
	if e.Kind == "" {
		return KindPR
	}
	return e.Kind
}

// Renewed returns e with its expiry pushed to now+ttl, keeping created-at:
// each PR push renews the TTL.
func (e Environment) Renewed(now time.Time, ttl time.Duration) Environment {
	e.ExpiresAt = now.UTC().Truncate(time.Second).Add(ttl)
	return e
}

// Key identifies the PR an environment belongs to, case-insensitively as
// GitHub treats owner and repository names.
// An on-demand environment's key is "ondemand:<name>", which no PR's key
// ("owner/repo#N") can be.
func (e Environment) Key() string {
	if e.OnDemand() {
		return "ondemand:" + e.Name
	}
	return strings.ToLower(e.Owner) + "/" + strings.ToLower(e.Repo) + "#" + strconv.Itoa(e.PR)
}

// Subject is what an environment previews, as people read it: "acme/shop#42"
// (owner and repository as written) or "ondemand:qa-checkout".
func (e Environment) Subject() string {
	if e.OnDemand() {
		return e.Key()
	}
	return e.Owner + "/" + e.Repo + "#" + strconv.Itoa(e.PR)
}

// ModuleName is the module block's label. It starts with "env_" so it is a
// valid HCL identifier whatever the ID's first character is.
func ModuleName(e Environment) string { return "env_" + e.ID }

// FileName is the environment's file name inside manager/<service>/environments/:
// <lower owner>-<lower repo>-<N>-<id>.tf, or ondemand-<name>-<id>.tf. Owner,
// repo and name are validated, so the name never holds a path separator.
func FileName(e Environment) string {
	if e.OnDemand() {
		return fmt.Sprintf("ondemand-%s-%s.tf", e.Name, e.ID)
	}
	return fmt.Sprintf("%s-%s-%d-%s.tf", strings.ToLower(e.Owner), strings.ToLower(e.Repo), e.PR, e.ID)
}

// Equal reports whether two environments hold the same values (times are
// compared as instants, not by location pointer).
func (e Environment) Equal(o Environment) bool {
	return e.KindOf() == o.KindOf() && e.Name == o.Name && e.Service == o.Service && e.Owner == o.Owner && e.Repo == o.Repo && e.PR == o.PR &&
		e.ID == o.ID && e.CodeVersion == o.CodeVersion && e.InfraBranch == o.InfraBranch &&
		e.CreatedAt.Equal(o.CreatedAt) && e.ExpiresAt.Equal(o.ExpiresAt)
}

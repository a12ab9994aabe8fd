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

// Environment is one preview environment: the PR it belongs to and what its
// stack runs. Times are UTC with whole seconds, which is what the file holds.
type Environment struct {
	Service     string    `json:"service"`
	Owner       string    `json:"owner"`
	Repo        string    `json:"repo"`
	PR          int       `json:"pr"`
	ID          string    `json:"id"`
	CodeVersion string    `json:"code_version"`
	InfraBranch string    `json:"infra_branch"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// DefaultTTL is how long an environment lives after its last render.
const DefaultTTL = 7 * 24 * time.Hour

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
	if ttl <= 0 {
		return Environment{}, &FieldError{Field: "ttl", Value: ttl.String(), Reason: "must be positive"}
	}
	now = now.UTC().Truncate(time.Second)
	e := Environment{
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

// Renewed returns e with its expiry pushed to now+ttl, keeping created-at:
// each PR push renews the TTL.
func (e Environment) Renewed(now time.Time, ttl time.Duration) Environment {
	e.ExpiresAt = now.UTC().Truncate(time.Second).Add(ttl)
	return e
}

// Key identifies the PR an environment belongs to, case-insensitively as
// GitHub treats owner and repository names.
func (e Environment) Key() string {
	return strings.ToLower(e.Owner) + "/" + strings.ToLower(e.Repo) + "#" + strconv.Itoa(e.PR)
}

// ModuleName is the module block's label. It starts with "env_" so it is a
// valid HCL identifier whatever the ID's first character is.
func ModuleName(e Environment) string { return "env_" + e.ID }

// FileName is the environment's file name inside manager/<service>/environments/:
// <lower owner>-<lower repo>-<N>-<id>.tf. Owner and repo are validated, so
// the name never holds a path separator.
func FileName(e Environment) string {
	return fmt.Sprintf("%s-%s-%d-%s.tf", strings.ToLower(e.Owner), strings.ToLower(e.Repo), e.PR, e.ID)
}

// Equal reports whether two environments hold the same values (times are
// compared as instants, not by location pointer).
func (e Environment) Equal(o Environment) bool {
	return e.Service == o.Service && e.Owner == o.Owner && e.Repo == o.Repo && e.PR == o.PR &&
		e.ID == o.ID && e.CodeVersion == o.CodeVersion && e.InfraBranch == o.InfraBranch &&
		e.CreatedAt.Equal(o.CreatedAt) && e.ExpiresAt.Equal(o.ExpiresAt)
}

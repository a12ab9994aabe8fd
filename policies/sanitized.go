package policies

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/types"
)

// SanitizedBuiltinName is the name Spacelift gives its helper in policies.
const SanitizedBuiltinName = "sanitized"

// Sanitized reproduces Spacelift's sanitized() helper: the last 8 characters
// of the lowercase hex SHA-256 digest. Spacelift documents it as "last 8
// bytes of the hash", but its own published samples only match the last 8
// hex characters (see shared/reference/spacelift-facts.md section 2).
func Sanitized(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[len(sum)-4:]) // 4 bytes: the last 8 hex characters
}

// sanitizedDecl declares sanitized(string) -> string. Spacelift defines it in
// its closed backend, so locally it must be declared before any policy that
// calls it compiles.
var sanitizedDecl = &rego.Function{
	Name:        SanitizedBuiltinName,
	Description: "Spacelift's sanitized(): last 8 hex characters of the SHA-256 digest of a string.",
	Decl:        types.NewFunction(types.Args(types.Named("value", types.S)), types.Named("hash", types.S)),
	// Not memoized: OPA's memo builds a string key and a cache entry per
	// call, which costs more than the SHA-256 of a stack ID, and the trigger
	// policy hashes each stack once.
	Memoize: false,
}

func sanitizedImpl(_ rego.BuiltinContext, a *ast.Term) (*ast.Term, error) {
	s, ok := a.Value.(ast.String)
	if !ok {
		return nil, fmt.Errorf("%s: operand must be a string, got %s", SanitizedBuiltinName, ast.ValueName(a.Value))
	}
	return ast.StringTerm(Sanitized(string(s))), nil
}

// sanitizedOption adds the builtin to one query only, so the evaluator does
// not depend on (or change) process-wide state.
func sanitizedOption() func(*rego.Rego) {
	return rego.Function1(sanitizedDecl, sanitizedImpl)
}

var registerOnce sync.Once

// RegisterSanitized adds sanitized() to OPA's global builtin table, for
// programs such as cmd/opa that hand control to OPA's own command tree and
// so cannot pass per-query options. Safe to call more than once.
func RegisterSanitized() {
	registerOnce.Do(func() {
		rego.RegisterBuiltin1(sanitizedDecl, sanitizedImpl)
	})
}

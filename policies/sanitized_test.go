package policies

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// The samples Spacelift publishes in its resource-sanitization docs.
func TestSanitizedDocumentedSamples(t *testing.T) {
	cases := []struct{ in, want string }{
		{"exampledb", "59832d41"},
		{"mysql", "eae35047"},
		{"5.7", "fc40d152"},
		{"db.t3.micro", "4f8189cd"},
		{"default.mysql5.7", "bead1390"},
	}
	for _, c := range cases {
		if got := Sanitized(c.in); got != c.want {
			t.Errorf("Sanitized(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSanitizedBuiltinRejectsNonStrings(t *testing.T) {
	for _, v := range []*ast.Term{ast.IntNumberTerm(7), ast.NullTerm(), ast.ArrayTerm(ast.StringTerm("a"))} {
		if got, err := sanitizedImpl(rego.BuiltinContext{}, v); err == nil {
			t.Errorf("sanitized(%v) = %v, want an error", v, got)
		}
	}
	got, err := sanitizedImpl(rego.BuiltinContext{}, ast.StringTerm("mysql"))
	if err != nil || got.Value.Compare(ast.String("eae35047")) != 0 {
		t.Errorf(`sanitized("mysql") = %v, %v; want "eae35047"`, got, err)
	}
}

package policies

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestRegoPolicies runs every test_ rule of the *_test.rego files through
// OPA's own test runner, with sanitized() declared as Spacelift declares it,
// so `go test` cannot pass while `opa test` fails.
func TestRegoPolicies(t *testing.T) {
	ctx := t.Context()
	modules, store, err := tester.Load([]string{"."}, nil)
	if err != nil {
		t.Fatalf("load policies and testdata: %v", err)
	}
	want := countRegoTests(t)
	if want == 0 {
		t.Fatal("found no test_ rules in *_test.rego")
	}

	txn, err := store.NewTransaction(ctx, storage.TransactionParams{})
	if err != nil {
		t.Fatalf("open store transaction: %v", err)
	}
	defer store.Abort(ctx, txn)

	runner := tester.NewRunner().
		SetStore(store).
		SetModules(modules).
		AddCustomBuiltins([]*tester.Builtin{{
			Decl: &ast.Builtin{Name: sanitizedDecl.Name, Decl: sanitizedDecl.Decl},
			Func: sanitizedOption(),
		}}).
		RaiseBuiltinErrors(true)
	ch, err := runner.RunTests(ctx, txn)
	if err != nil {
		t.Fatalf("compile policies and tests: %v", err)
	}
	ran := 0
	for r := range ch {
		ran++
		t.Run(r.Package+"."+r.Name, func(t *testing.T) {
			switch {
			case r.Error != nil:
				t.Fatalf("%s: error: %v", r.Location, r.Error)
			case r.Fail:
				t.Fatalf("%s: failed", r.Location)
			case r.Skip:
				t.Fatalf("%s: skipped (todo_test_ rules are not allowed)", r.Location)
			}
		})
	}
	if ran != want {
		t.Errorf("OPA ran %d tests, the *_test.rego files define %d", ran, want)
	}
}

var testRule = regexp.MustCompile(`(?m)^test_\w+`)

func countRegoTests(t *testing.T) int {
	t.Helper()
	files, err := filepath.Glob("*_test.rego")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += len(testRule.FindAll(b, -1))
	}
	return n
}

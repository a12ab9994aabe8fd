package demo

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func repoFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// greetingOf reads DefaultGreeting back from Go source through the Go
// parser, so the test does not trust the regexp it is testing.
func greetingOf(t *testing.T, src []byte) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "handler.go", src, 0)
	if err != nil {
		t.Fatalf("edited source does not parse: %v", err)
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range g.Specs {
			vs, ok := spec.(*ast.ValueSpec)
			if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "DefaultGreeting" || len(vs.Values) != 1 {
				continue
			}
			lit, ok := vs.Values[0].(*ast.BasicLit)
			if !ok {
				t.Fatalf("DefaultGreeting is not a literal")
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	t.Fatal("no DefaultGreeting in the edited source")
	return ""
}

func TestSetGreeting(t *testing.T) {
	handler := repoFile(t, HandlerPath)
	tests := []struct {
		name     string
		src      []byte
		greeting string
		wantErr  string
	}{
		{name: "the real handler", src: handler, greeting: "Hello from the demo"},
		{name: "quotes and backslashes stay Go", src: handler, greeting: `say "hi" \ bye`},
		{name: "newline is escaped", src: handler, greeting: "two\nlines"},
		{name: "empty", src: handler, greeting: ""},
		{name: "edits an already edited value", src: []byte("package h\n\nconst DefaultGreeting = \"Hello \\\"x\\\"\"\n"), greeting: "again"},
		{name: "no constant", src: []byte("package h\n\nconst Other = \"Hello world\"\n"), greeting: "x", wantErr: "found 0"},
		{name: "two constants", src: []byte("package h\n\nconst DefaultGreeting = \"a\"\nvar _ = `DefaultGreeting = \"b\"`\n"), greeting: "x", wantErr: "found 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := SetGreeting(tc.src, tc.greeting)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := greetingOf(t, out); got != tc.greeting {
				t.Fatalf("DefaultGreeting is %q after the edit, want %q", got, tc.greeting)
			}
		})
	}
}

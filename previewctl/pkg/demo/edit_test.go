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

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
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

// envVars evaluates environment.variables of the first aws_lambda_function
// with HCL's own parser: what the Spacelift stand-in's infra evaluation reads.
func envVars(t *testing.T, src []byte) map[string]string {
	t.Helper()
	f, diags := hclsyntax.ParseConfig(src, InfraPath, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("edited HCL does not parse: %v", diags)
	}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "resource" || b.Labels[0] != "aws_lambda_function" {
			continue
		}
		for _, eb := range b.Body.Blocks {
			if eb.Type != "environment" {
				continue
			}
			obj, ok := eb.Body.Attributes["variables"].Expr.(*hclsyntax.ObjectConsExpr)
			if !ok {
				t.Fatal("variables is not an object")
			}
			out := map[string]string{}
			for _, item := range obj.Items {
				k := hcl.ExprAsKeyword(item.KeyExpr)
				v, diags := item.ValueExpr.Value(nil)
				if diags.HasErrors() || !v.Type().Equals(cty.String) {
					out[k] = "<expression>" // references like var.environment
					continue
				}
				out[k] = v.AsString()
			}
			return out
		}
	}
	t.Fatal("no aws_lambda_function environment in the edited HCL")
	return nil
}

func TestAddFunctionEnv(t *testing.T) {
	infra := repoFile(t, InfraPath)
	fn := func(vars string) []byte {
		return []byte("resource \"aws_lambda_function\" \"f\" {\n  environment {\n    variables = " + vars + "\n  }\n}\n")
	}
	tests := []struct {
		name, key, value string
		src              []byte
		want             map[string]string // the variables after the edit
		oneLine          bool              // the edit adds one line and changes nothing else
		wantErr          string
	}{
		{name: "the real infra", src: infra, key: "PREVIEW_GREETING", value: "Hello from infra",
			want: map[string]string{"PREVIEW_ENVIRONMENT_ID": "<expression>", "PREVIEW_GREETING": "Hello from infra"}, oneLine: true},
		{name: "template introducers stay literal", src: infra, key: "PREVIEW_GREETING", value: `${var.x} %{if} "q" \n`,
			want: map[string]string{"PREVIEW_ENVIRONMENT_ID": "<expression>", "PREVIEW_GREETING": `${var.x} %{if} "q" \n`}, oneLine: true},
		{name: "empty object", src: fn("{}"), key: "A", value: "1", want: map[string]string{"A": "1"}},
		{name: "one-line object", src: fn(`{ B = "2" }`), key: "A", value: "1", want: map[string]string{"A": "1", "B": "2"}},
		{name: "already set", src: fn(`{ A = "2" }`), key: "A", value: "1", wantErr: "already sets A"},
		{name: "nested key is not top level", src: fn(`{ B = { A = "x" } }`), key: "A", value: "1", wantErr: ""},
		{name: "bad name", src: infra, key: "A-B C", value: "1", wantErr: "not an HCL identifier"},
		{name: "no function", src: []byte("resource \"aws_s3_bucket\" \"b\" {}\n"), key: "A", value: "1", wantErr: "no resource"},
		{name: "no environment", src: []byte("resource \"aws_lambda_function\" \"f\" {\n  handler = \"x\"\n}\n"), key: "A", value: "1", wantErr: "no environment block"},
		{name: "variables not literal", src: fn("local.vars"), key: "A", value: "1", wantErr: "not an object literal"},
		{name: "unparsable", src: []byte("resource {"), key: "A", value: "1", wantErr: "parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := AddFunctionEnv(tc.src, tc.key, tc.value)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := envVars(t, out)
			if tc.want != nil {
				if len(got) != len(tc.want) {
					t.Fatalf("variables %v, want %v", got, tc.want)
				}
				for k, v := range tc.want {
					if got[k] != v {
						t.Fatalf("variables %v, want %v", got, tc.want)
					}
				}
			} else if got[tc.key] != tc.value {
				t.Fatalf("variables %v: %s is not %q", got, tc.key, tc.value)
			}
			if d := lineDiff(string(tc.src), string(out)); tc.oneLine && (d != 1 || len(out) <= len(tc.src)) {
				t.Errorf("the edit changed %d lines, want 1 added:\n%s", d, out)
			}
		})
	}
}

// lineDiff counts lines of b that are not in a (a crude added-lines count).
func lineDiff(a, b string) int {
	have := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		have[strings.TrimSpace(l)]++
	}
	n := 0
	for _, l := range strings.Split(b, "\n") {
		if have[strings.TrimSpace(l)] > 0 {
			have[strings.TrimSpace(l)]--
			continue
		}
		n++
	}
	return n
}

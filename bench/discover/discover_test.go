package discover

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestModules(t *testing.T) {
	for _, tc := range []struct {
		name, work string
		want       []string
	}{
		{"block", "go 1.26.0\n\nuse (\n\t./policies\n\t./previewctl // the CLI\n\n\t\"./test\"\n)\n", []string{"policies", "previewctl", "test"}},
		{"single lines", "go 1.26\nuse ./a\nuse ./b/c\n", []string{"a", "b/c"}},
		{"none", "go 1.26\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, map[string]string{"go.work": tc.work})
			got, err := Modules(root)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := Modules(t.TempDir()); err == nil {
		t.Error("no go.work: want an error")
	}
}

func TestBenchmarks(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"m/go.mod": "module m\n",
		"m/a/a_test.go": `package a
import "testing"
func BenchmarkOne(b *testing.B) {}
func Benchmark(b *testing.B) {}
func Benchmarkable(b *testing.B) {}          // lower case after the prefix: not a benchmark
func BenchmarkHelper(b *testing.B, n int) {}  // wrong signature
func BenchmarkT(t *testing.T) {}              // wrong type
type x struct{}
func (x) BenchmarkMethod(b *testing.B) {}
func TestSomething(t *testing.T) {}
`,
		"m/a/b_test.go":           "package a_test\nimport \"testing\"\nfunc BenchmarkExternal(b *testing.B) {}\n",
		"m/a/nottest.go":          "package a\nimport \"testing\"\nfunc BenchmarkInLibrary(b *testing.B) {}\n",
		"m/a/testdata/x_test.go":  "package x\nimport \"testing\"\nfunc BenchmarkTestdata(b *testing.B) {}\n",
		"m/.hidden/x_test.go":     "package x\nimport \"testing\"\nfunc BenchmarkHidden(b *testing.B) {}\n",
		"m/nested/go.mod":         "module nested\n",
		"m/nested/x_test.go":      "package x\nimport \"testing\"\nfunc BenchmarkNested(b *testing.B) {}\n",
		"m/deep/er/pkg/p_test.go": "package pkg\nimport \"testing\"\nfunc BenchmarkDeep(b *testing.B) {}\n",
		"other/o_test.go":         "package o\nimport \"testing\"\nfunc BenchmarkNotInWorkspace(b *testing.B) {}\n",
	})
	got, err := Benchmarks(root, []string{"m"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Func{{"m/a", "Benchmark"}, {"m/a", "BenchmarkExternal"}, {"m/a", "BenchmarkOne"}, {"m/deep/er/pkg", "BenchmarkDeep"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}

	write(t, root, map[string]string{"m/bad/x_test.go": "package x\nfunc {"})
	if _, err := Benchmarks(root, []string{"m"}); err == nil {
		t.Error("a test file that does not parse: want an error")
	}
}

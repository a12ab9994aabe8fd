package envfile

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func BenchmarkRender(b *testing.B) {
	e := valid()
	for b.Loop() {
		if _, err := Render(e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	e := valid()
	src, _ := Render(e)
	name := FileName(e)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse(name, src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadDir1000 lists a directory of 1000 environments, the scale gc
// and ls must stay quick at.
func BenchmarkReadDir1000(b *testing.B) {
	dir := b.TempDir()
	for i := 1; i <= 1000; i++ {
		e, err := New("hello-service", "acme", fmt.Sprintf("repo%d", i%7), i, "latest", "main", t0, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := WriteAtomic(dir, e); err != nil {
			b.Fatal(err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1000 {
		b.Fatalf("%d files", len(ents))
	}
	for b.Loop() {
		envs, errs := ReadDir(dir)
		if len(envs) != 1000 || len(errs) != 0 {
			b.Fatalf("%d envs %v", len(envs), errs)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/listing")
}

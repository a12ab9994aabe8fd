package githost_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"preview-environments/update-file-action/updatefile"
)

// BenchmarkCommitFilesEvent: one CommitFiles of one file to a branch with an
// open PR, until the subscriber has both its push and synchronize events.
// Reports the commit call and the delay from its return to the last event.
func BenchmarkCommitFilesEvent(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b)
	seedRepo(b, f)
	if _, err := f.host.CommitFiles(ctx, owner, repo, "feature", "", map[string][]byte{"f": []byte("0")}, "f"); err != nil {
		b.Fatal(err)
	}
	if _, err := f.host.OpenPR(ctx, owner, repo, "feature", "main", "bench"); err != nil {
		b.Fatal(err)
	}
	f.events(b, 2)
	var commit, event time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		_, err := f.host.CommitFiles(ctx, owner, repo, "feature", "",
			map[string][]byte{"service/message.txt": fmt.Appendf(nil, "v%d", i)}, "bench")
		if err != nil {
			b.Fatal(err)
		}
		done := time.Now()
		<-f.evs
		<-f.evs
		commit += done.Sub(start)
		event += time.Since(done)
	}
	b.ReportMetric(float64(commit.Microseconds())/1000/float64(b.N), "ms/commit")
	b.ReportMetric(float64(event.Microseconds())/1000/float64(b.N), "ms/event-after-commit")
}

// BenchmarkContentsAPI100Writers: 100 writers of different files at once
// through updatefile.Apply and the contents API on git; every one must land.
// "fast" is the scaled-down backoff of the tests, "action-defaults" the
// action's own schedule (250 ms doubling to 16 s, 8 attempts).
func BenchmarkContentsAPI100Writers(b *testing.B) {
	for _, tc := range []struct {
		name        string
		backoff     updatefile.Backoff
		maxAttempts int
	}{
		{"fast", fastBackoff, 60},
		{"action-defaults", updatefile.Backoff{}, 0},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const n = 100
			f := newFixture(b)
			seedRepo(b, f)
			_, client := f.server(b)
			var retries, maxAttempts int
			b.ResetTimer()
			for i := range b.N {
				out := runWritersWith(client, n, fmt.Sprintf("run%d", i), tc.backoff, tc.maxAttempts)
				for j, o := range out {
					if o.err != nil {
						b.Fatalf("writer %d: %v", j, o.err)
					}
					retries += o.res.Attempts - 1
					maxAttempts = max(maxAttempts, o.res.Attempts)
				}
				b.StopTimer()
				for range n {
					<-f.evs
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/100-writers")
			b.ReportMetric(float64(retries)/float64(b.N), "retries/100-writers")
			b.ReportMetric(float64(maxAttempts), "max-attempts")
		})
	}
}

// BenchmarkImportMonorepo imports this repository's working tree: the first
// import (a commit) and then an unchanged one (no commit), as at each
// sandbox start.
func BenchmarkImportMonorepo(b *testing.B) {
	_, file, _, _ := runtime.Caller(0)
	root, err := filepath.Abs(filepath.Join(filepath.Dir(file), "../../../.."))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		b.Fatalf("monorepo root not found at %s: %v", root, err)
	}
	ctx := context.Background()
	var first, again time.Duration
	files := 0
	for range b.N {
		f := newFixture(b)
		start := time.Now()
		res, err := f.host.ImportWorkingTree(ctx, root, owner, repo)
		if err != nil || !res.Changed {
			b.Fatalf("first import: %+v, %v", res, err)
		}
		first += time.Since(start)
		start = time.Now()
		res2, err := f.host.ImportWorkingTree(ctx, root, owner, repo)
		if err != nil {
			b.Fatal(err)
		}
		again += time.Since(start)
		_ = res2 // the tree may change under us: other people work in it
		files = res.Files
	}
	b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "ms/first-import")
	b.ReportMetric(float64(again.Milliseconds())/float64(b.N), "ms/re-import")
	b.ReportMetric(float64(files), "files")
}

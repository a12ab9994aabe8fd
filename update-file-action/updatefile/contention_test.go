package updatefile_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"preview-environments/update-file-action/contentsapi"
	"preview-environments/update-file-action/updatefile"
)

// commitLatency is how long the stand-in holds each write between reading
// the branch head and committing: the window in which racing writers collide.
const commitLatency = time.Millisecond

// contentionBackoff is the production schedule: Apply's defaults.
var contentionBackoff = updatefile.Backoff{}

type outcome struct {
	res updatefile.Result
	err error
}

// race runs n writers at once against e; file(i) and content(i) say what
// writer i writes. It returns each writer's outcome.
func race(t testing.TB, e *env, n int, file, content func(int) string) []outcome {
	t.Helper()
	client := e.client(t, token)
	out := make([]outcome, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i].res, out[i].err = updatefile.Apply(context.Background(), client, updatefile.Request{
				Owner: owner, Repo: repo, Branch: branch, Path: file(i), Content: []byte(content(i)),
				Message: fmt.Sprintf("writer %d", i), Backoff: contentionBackoff,
			})
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func TestContentionDifferentFiles(t *testing.T) {
	const n = 100
	e := newEnv(t, contentsapi.WithCommitLatency(commitLatency))
	file := func(i int) string { return fmt.Sprintf("hello-service/environments/env-%03d.tf", i) }
	content := func(i int) string { return fmt.Sprintf("writer = %d\n", i) }
	out := race(t, e, n, file, content)

	retries, maxAttempts := 0, 0
	for i, o := range out {
		if o.err != nil {
			t.Errorf("writer %d: %v", i, o.err)
			continue
		}
		if o.res.Operation != updatefile.Created {
			t.Errorf("writer %d: %s, want created", i, o.res.Operation)
		}
		retries += o.res.Attempts - 1
		maxAttempts = max(maxAttempts, o.res.Attempts)
	}
	hist := e.log(t, branch)
	if len(hist) != n {
		t.Fatalf("%d commits on the branch, want %d", len(hist), n)
	}
	for i := range n {
		f, err := e.store.ReadFile(context.Background(), owner, repo, branch, file(i))
		if err != nil || string(f.Content) != content(i) {
			t.Errorf("file %d after the race: %q, %v", i, f.Content, err)
		}
	}
	t.Logf("%d writers, %d files landed, 0 errors: %d retries in total, at most %d attempts for one writer",
		n, len(hist), retries, maxAttempts)
	if retries == 0 {
		t.Errorf("no writer had to retry: the race did not happen, so this test proves nothing")
	}
}

func TestContentionSameFile(t *testing.T) {
	const n = 20
	const path = "hello-service/environments/shared.tf"
	e := newEnv(t, contentsapi.WithCommitLatency(commitLatency))
	e.seed(t, branch, path, "initial\n")
	content := func(i int) string { return fmt.Sprintf("writer = %d\n", i) }
	out := race(t, e, n, func(int) string { return path }, content)

	// Every commit touching the file, and who made it.
	hist := e.log(t, branch)
	byCommit := map[string]int{}
	for i, o := range out {
		if o.err != nil {
			continue // returned to its writer: not silent
		}
		if o.res.Operation != updatefile.Updated {
			t.Errorf("writer %d: %s, want updated", i, o.res.Operation)
		}
		byCommit[o.res.CommitSHA] = i
	}
	retries, failed := 0, 0
	for i, o := range out {
		retries += o.res.Attempts - 1
		if o.err != nil {
			failed++
			t.Logf("writer %d got an error: %v", i, o.err)
		}
	}
	// Each reported commit is in the history with that writer's content, and
	// each commit in the history was reported to exactly one writer.
	for _, c := range hist {
		if c.Path != path || c.Message == "seed" {
			continue
		}
		i, ok := byCommit[c.SHA]
		if !ok {
			t.Errorf("commit %s (%q) landed but no writer was told", c.SHA, c.Message)
			continue
		}
		if string(c.Content) != content(i) || c.Message != fmt.Sprintf("writer %d", i) {
			t.Errorf("commit %s holds %q / %q, writer %d wrote %q", c.SHA, c.Content, c.Message, i, content(i))
		}
		delete(byCommit, c.SHA)
	}
	for sha, i := range byCommit {
		t.Errorf("writer %d was told commit %s, which is not in the history", i, sha)
	}
	// Last write wins: the file holds what the newest commit wrote.
	f, err := e.store.ReadFile(context.Background(), owner, repo, branch, path)
	if err != nil || len(hist) == 0 || string(f.Content) != string(hist[0].Content) {
		t.Fatalf("file holds %q (%v), the last commit wrote %q", f.Content, err, hist[0].Content)
	}
	if failed != 0 {
		t.Errorf("%d of %d writers failed", failed, n)
	}
	t.Logf("%d writers on one file: %d landed, %d failed (each told), %d retries, final content %q",
		n, n-failed, failed, retries, f.Content)
}

// BenchmarkContention100Writers is the 100-different-files race: wall time
// per race (ns/op) and retries per race.
func BenchmarkContention100Writers(b *testing.B) {
	const n = 100
	file := func(i int) string { return fmt.Sprintf("env-%03d.tf", i) }
	content := func(i int) string { return fmt.Sprintf("writer = %d\n", i) }
	var retries, maxAttempts, errs int
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, contentsapi.WithCommitLatency(commitLatency))
		b.StartTimer()
		out := race(b, e, n, file, content)
		b.StopTimer()
		for _, o := range out {
			if o.err != nil {
				errs++
			}
			retries += o.res.Attempts - 1
			maxAttempts = max(maxAttempts, o.res.Attempts)
		}
		e.srv.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(retries)/float64(b.N), "retries/op")
	b.ReportMetric(float64(maxAttempts), "max-attempts")
	b.ReportMetric(float64(errs)/float64(b.N), "errors/op")
}

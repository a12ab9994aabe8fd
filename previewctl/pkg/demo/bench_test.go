package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/platform"
)

var packageLine = regexp.MustCompile(`^package: \S+/([0-9a-f]{40})\.zip .* in ([0-9]+) ms$`)

// compileMS finds the CI's package step for head in PR number's log: the
// artifact build (and its loopback upload), reported apart from the rest.
func compileMS(ctx context.Context, p *platform.Platform, number int, head string) (float64, bool) {
	log, err := p.CILog(ctx, number)
	if err != nil {
		return 0, false
	}
	for i := len(log) - 1; i >= 0; i-- {
		if m := packageLine.FindStringSubmatch(log[i].Line); m != nil && m[1] == head {
			ms, err := strconv.Atoi(m[2])
			return float64(ms), err == nil
		}
	}
	return 0, false
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkPREventToURL: one op is a push to an open PR that changes the
// service, until its URL serves the new head sha: CI build and upload,
// render, contents-API write, push event, manager run, trigger policy,
// environment run, deploy, first invoke. Reported as medians over b.N:
// ms-compile (the CI's package step), ms-event-to-url (the rest: the
// issue's goal, compile excluded) and ms-event-to-url-with-compile.
// Loopback only; each op is bounded by a 2-minute wait.
//
// Sub-benchmarks: stacks=1 is a one-stack environment (manager
// data_stack = false), stacks=2 the default two (data stack + service
// stack that depends on it), so both figures come from one run.
func BenchmarkPREventToURL(b *testing.B) {
	b.Run("stacks=1", func(b *testing.B) { benchEventToURL(b, true) })
	b.Run("stacks=2", func(b *testing.B) { benchEventToURL(b, false) })
}

func benchEventToURL(b *testing.B, singleStack bool) {
	rie := needRIE(b)
	ctx := context.Background()
	p, err := platform.Open(ctx, platform.Config{
		Sandbox:     sandbox.Config{Addr: "127.0.0.1:0", DataDir: b.TempDir(), RIEPath: rie},
		RepoRoot:    repoRoot(b),
		WaitTimeout: 2 * time.Minute,
		SingleStack: singleStack,
	})
	if err != nil {
		b.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- p.Serve(sctx) }()
	defer func() { stop(); <-served; p.Close() }()
	<-p.Ready()

	f, err := p.Git.ReadFile(ctx, p.Config().Owner, p.Config().Repo, platform.DefaultBranch, HandlerPath)
	if err != nil {
		b.Fatal(err)
	}
	client := platform.LocalhostClient(p.SB.Addr())
	edit := func(greeting string) map[string][]byte {
		src, err := SetGreeting(f.Content, greeting)
		if err != nil {
			b.Fatal(err)
		}
		return map[string][]byte{HandlerPath: src}
	}
	// waitBody polls tightly (5 ms) so the figure is the pipeline's, not
	// the poll interval's.
	waitBody := func(url, want string) {
		deadline := time.Now().Add(2 * time.Minute)
		last := ""
		for time.Now().Before(deadline) {
			if resp, err := client.Get(url); err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				last = fmt.Sprintf("%d %q", resp.StatusCode, body)
				if resp.StatusCode == 200 && string(body) == want {
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		b.Fatalf("%s does not serve %q after 2 minutes (last: %s)", url, want, last)
	}

	pr, err := p.OpenPR(ctx, "bench/event-to-url", "Benchmark", edit("bench 0"))
	if err != nil {
		b.Fatal(err)
	}
	pv := func() platform.Preview {
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			if pv, err := p.Preview(ctx, pr.Number); err == nil && pv.URL != "" {
				return pv
			}
			time.Sleep(10 * time.Millisecond)
		}
		b.Fatal("no preview for the benchmark PR")
		return platform.Preview{}
	}()
	url := pv.URL + "hello"
	// With a data stack the function answers the bucket's greeting, not
	// the code's: the new head sha is what shows the new code is live.
	greetingOf := func(code string) string { return code }
	if !singleStack {
		g, err := os.ReadFile(filepath.Join(repoRoot(b), DataGreetingPath))
		if err != nil {
			b.Fatal(err)
		}
		greetingOf = func(string) string { return strings.TrimSpace(string(g)) }
	}
	waitBody(url, pr.HeadSHA+": "+greetingOf("bench 0"))

	var total, compile, rest []float64
	i := 0
	for b.Loop() {
		i++
		greeting := "bench " + strconv.Itoa(i)
		t0 := time.Now()
		pushed, err := p.PushPR(ctx, pr.Number, greeting, edit(greeting))
		if err != nil {
			b.Fatal(err)
		}
		waitBody(url, pushed.HeadSHA+": "+greetingOf(greeting))
		ms := float64(time.Since(t0).Microseconds()) / 1000
		c, ok := compileMS(ctx, p, pr.Number, pushed.HeadSHA)
		if !ok {
			b.Fatalf("no package step for %s in PR #%d's CI log", pushed.HeadSHA, pr.Number)
		}
		total = append(total, ms)
		compile = append(compile, c)
		rest = append(rest, ms-c)
	}
	b.ReportMetric(median(rest), "ms-event-to-url")
	b.ReportMetric(median(compile), "ms-compile")
	b.ReportMetric(median(total), "ms-event-to-url-with-compile")
	b.Logf("per op (ms): with compile %v; compile %v", roundAll(total), roundAll(compile))
}

func roundAll(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strings.Join(s, " ")
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tc := range tests {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestPackageLine(t *testing.T) {
	sha := strings.Repeat("ab", 20)
	tests := []struct {
		line string
		ok   bool
		ms   string
	}{
		{"package: s3://preview-artifacts/" + sha + ".zip (2730350 bytes, sha256 ad18a798c2cd) uploaded in 1085 ms", true, "1085"},
		{"package: s3://preview-artifacts/" + sha + ".zip (2730350 bytes, sha256 ad18a798c2cd) already there, upload skipped in 7 ms", true, "7"},
		{"render: environment e6347a07 file created (commit 18f1b8c, 1 attempt(s)) in 61 ms", false, ""},
		{"package: s3://preview-artifacts/latest.zip (1 bytes) uploaded in 5 ms", false, ""},
	}
	for _, tc := range tests {
		m := packageLine.FindStringSubmatch(tc.line)
		if (m != nil) != tc.ok || (m != nil && (m[1] != sha || m[2] != tc.ms)) {
			t.Errorf("%q: match %v, want ok=%v ms=%s", tc.line, m, tc.ok, tc.ms)
		}
	}
}

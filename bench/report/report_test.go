package report

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"preview-environments/bench/benchout"
	"preview-environments/bench/discover"
)

func TestPlan(t *testing.T) {
	funcs := []discover.Func{
		{Dir: "a", Name: "BenchmarkFast"}, {Dir: "a", Name: "BenchmarkSlow"}, {Dir: "a", Name: "BenchmarkAlsoFast"},
		{Dir: "b", Name: "BenchmarkRow"}, {Dir: "c", Name: "BenchmarkAnywhere"},
	}
	settings := []Setting{{"a", "BenchmarkSlow", "3x"}, {"", "BenchmarkAnywhere", "5x"}, {"zzz", "BenchmarkFast", "9x"}}
	rows := []Row{{ID: "R", Dir: "b", Func: "BenchmarkRow"}}
	got := Plan(funcs, settings, rows, "5m")
	want := []Run{
		{Dir: "b", Funcs: []string{"BenchmarkRow"}, Timeout: "5m"},
		{Dir: "a", Funcs: []string{"BenchmarkFast", "BenchmarkAlsoFast"}, Timeout: "5m"},
		{Dir: "a", Funcs: []string{"BenchmarkSlow"}, Benchtime: "3x", Timeout: "5m"},
		{Dir: "c", Funcs: []string{"BenchmarkAnywhere"}, Benchtime: "5x", Timeout: "5m"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestCommands(t *testing.T) {
	r := Run{Dir: "policies", Funcs: []string{"BenchmarkTrigger", "BenchmarkTriggerPhases"}, Benchtime: "3x", Timeout: "5m"}
	for _, tc := range []struct{ name, got, want string }{
		{"run", r.Command(), `go test -run '^$' -bench '^(BenchmarkTrigger|BenchmarkTriggerPhases)$' -benchtime 3x -benchmem -count 1 -timeout 5m ./policies`},
		{"one sub-benchmark", r.CommandFor("BenchmarkTrigger/stacks=10000/changes=50000"),
			`go test -run '^$' -bench '^BenchmarkTrigger$/^stacks=10000$/^changes=50000$' -benchtime 3x -benchmem -count 1 ./policies`},
		{"meta characters quoted", Run{Dir: "x", Funcs: []string{"BenchmarkA"}}.CommandFor("BenchmarkA/v1.2_(it's)"),
			`go test -run '^$' -bench '^BenchmarkA$/^v1\.2_\(it'\''s\)$' -benchmem -count 1 ./x`},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, tc.got, tc.want)
		}
	}
}

func res(name string, ms ...any) benchout.Result {
	r := benchout.Result{Name: name, N: 1}
	for i := 0; i < len(ms); i += 2 {
		r.Metrics = append(r.Metrics, benchout.Metric{Value: ms[i].(float64), Unit: ms[i+1].(string)})
	}
	return r
}

func TestEvaluatePlainRows(t *testing.T) {
	row := Row{ID: "X", Dir: "d", Func: "BenchmarkX", Src: []Src{{"ms/op", 1}, {"ns/op", 1e-6}}, Unit: "ms", Goal: &Goal{Op: "<=", Value: 10},
		Detail: []Detail{{"cpu", []Src{{"cpu-ms/op", 1}}, "ms"}}}
	sub := Row{ID: "S", Dir: "d", Func: `Benchmark\w*`, Sub: `(?:.*\D)?100`, Src: []Src{{"ms/*", 1}}, Unit: "ms", Goal: &Goal{Op: ">=", Value: 1}}
	run := Run{Dir: "d", Funcs: []string{"BenchmarkX"}}
	for _, tc := range []struct {
		name    string
		row     Row
		out     Outcome
		text    string // figure text, or the reason when not measured
		verdict string
	}{
		{"preferred unit", row, Outcome{Run: run, Out: benchout.Output{Results: []benchout.Result{res("BenchmarkX", 9e6, "ns/op", 9.5, "ms/op", 7.0, "cpu-ms/op")}}},
			"9.5 ms (cpu 7 ms)", "pass"},
		{"fallback unit scaled", row, Outcome{Run: run, Out: benchout.Output{Results: []benchout.Result{res("BenchmarkX", 12.5e6, "ns/op")}}},
			"12.5 ms", "FAIL"},
		{"metric missing names what it has", row, Outcome{Run: run, Out: benchout.Output{Results: []benchout.Result{res("BenchmarkX", 1.0, "B/op")}}},
			"BenchmarkX reports no ms/op or ns/op (it reports: B/op)", "not measured"},
		{"sub-benchmarks are not the top-level row", row, Outcome{Run: run, Out: benchout.Output{Results: []benchout.Result{res("BenchmarkX/a", 1.0, "ms/op")}}},
			"the benchmark printed no result matching BenchmarkX", "not measured"},
		{"failed with its reason", row, Outcome{Run: run, Status: Failed, Reason: "exit status 1",
			Out: benchout.Output{Failed: []string{"BenchmarkX"}, Reasons: map[string]string{"BenchmarkX": "x_test.go:3: run make tools"}}},
			"benchmark failed: x_test.go:3: run make tools", "not measured"},
		{"skipped", row, Outcome{Run: run, Out: benchout.Output{Skipped: []string{"BenchmarkX"}, Reasons: map[string]string{"BenchmarkX": "AWS_REGION not set"}}},
			"benchmark skipped: AWS_REGION not set", "not measured"},
		{"out of budget", row, Outcome{Run: run, Status: NotRun, Reason: "time budget spent before this run"},
			"not run: time budget spent before this run", "not measured"},
		{"build failure", row, Outcome{Run: run, Status: Failed, Reason: "go test: exit status 1: syntax error"},
			"run failed: go test: exit status 1: syntax error", "not measured"},
		{"not written yet", row, Outcome{Run: Run{Dir: "other", Funcs: []string{"BenchmarkX"}}},
			"no benchmark BenchmarkX exists yet in d", "not measured"},
		{"sub-benchmark by size, prefix unit", sub, Outcome{Run: Run{Dir: "d", Funcs: []string{"BenchmarkManager"}}, Out: benchout.Output{Results: []benchout.Result{
			res("BenchmarkManager/files=1000", 5.0, "ms/manager-run"), res("BenchmarkManager/files=100", 2.0, "ms/manager-run")}}},
			"2 ms", "pass"},
		{"no goal", Row{ID: "N", Func: "BenchmarkX", Src: []Src{{"x", 1}}}, Outcome{Run: run, Out: benchout.Output{Results: []benchout.Result{res("BenchmarkX", 3.0, "x")}}},
			"3", "—"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Evaluate([]Row{tc.row}, []Outcome{tc.out}, nil)[0]
			text := f.Text
			if !f.Has {
				text = f.Missing
			}
			if text != tc.text || f.Verdict() != tc.verdict {
				t.Errorf("got %q %s, want %q %s", text, f.Verdict(), tc.text, tc.verdict)
			}
			if f.Has && !strings.HasPrefix(f.Command, "go test -run '^$' -bench '^Benchmark") {
				t.Errorf("command %q", f.Command)
			}
		})
	}
}

func TestEvaluateDerivedRows(t *testing.T) {
	small := Row{ID: "S", Dir: "d", Func: "BenchmarkM", Sub: "n=1000", Src: []Src{{"ms/op", 1}}}
	big := Row{ID: "B", Dir: "d", Func: "BenchmarkM", Sub: "n=10000", Src: []Src{{"ms/op", 1}}}
	lin := Row{ID: "L", Goal: &Goal{Op: "<=", Value: 2}, Compute: linear("S", 1000, "B", 10000)}
	fails := Row{ID: "F", Goal: &Goal{Op: "==", Value: 0}, Compute: noFailures("S")}
	failedRun := func(reason string) []Outcome {
		return []Outcome{{Run: Run{Dir: "d", Funcs: []string{"BenchmarkM"}}, Status: Failed, Reason: "exit status 1",
			Out: benchout.Output{Failed: []string{"BenchmarkM/n=1000"}, Reasons: map[string]string{"BenchmarkM/n=1000": reason}}}}
	}
	coldRow := Row{ID: "P6", Goal: &Goal{Op: "<=", Value: 600}, Compute: cold}
	rows := []Row{small, big, lin, fails, coldRow}
	out := func(small, big float64) []Outcome {
		return []Outcome{{Run: Run{Dir: "d", Funcs: []string{"BenchmarkM"}}, Out: benchout.Output{Results: []benchout.Result{
			res("BenchmarkM/n=1000", small, "ms/op"), res("BenchmarkM/n=10000", big, "ms/op")}}}}
	}
	for _, tc := range []struct {
		name     string
		outcomes []Outcome
		cold     *ColdRecord
		verdicts []string // for L, F, P6
		linear   float64
	}{
		{"linear, no failures, cold in time", out(100, 1100), &ColdRecord{Date: "2026-11-28T06:00:00Z", Commit: "abc", Seconds: 420}, []string{"pass", "pass", "pass"}, 1.1},
		{"quadratic", out(100, 10000), &ColdRecord{Seconds: 700}, []string{"FAIL", "pass", "FAIL"}, 10},
		{"nothing measured", nil, nil, []string{"not measured", "not measured", "not measured"}, 0},
		{"cold run failed", out(100, 1000), &ColdRecord{Seconds: 30, Exit: 2}, []string{"pass", "pass", "FAIL"}, 1},
		{"a write failed", failedRun("bench_test.go:72: writer 95: gave up after max attempts (8)"), nil, []string{"not measured", "FAIL", "not measured"}, 0},
		{"failed for another reason", failedRun("bench_test.go:60: seed: git not found"), nil, []string{"not measured", "not measured", "not measured"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			figs := Evaluate(rows, tc.outcomes, tc.cold)
			var got []string
			for _, f := range figs[2:] {
				got = append(got, f.Verdict())
			}
			if !reflect.DeepEqual(got, tc.verdicts) {
				t.Errorf("verdicts %v, want %v (%+v)", got, tc.verdicts, figs[2:])
			}
			if figs[2].Has && math.Abs(figs[2].Value-tc.linear) > 1e-9 {
				t.Errorf("linear = %v, want %v", figs[2].Value, tc.linear)
			}
		})
	}
}

func TestRowsMatchTheirBenchmarks(t *testing.T) {
	// The rows name benchmarks that exist today by the names they print;
	// a rename there must show up here, not as a silent "not measured".
	for _, tc := range []struct {
		id, dir, name string
	}{
		{"P2", "previewctl/pkg/sandbox", "BenchmarkGatewayVsDirect"},
		{"P2-hop", "previewctl/pkg/sandbox", "BenchmarkGatewayVsDirect"},
		{"P2-gateway", "previewctl/pkg/sandbox", "BenchmarkGatewayVsDirect"},
		{"P3-100", "previewctl/pkg/sandbox/spacelift", "BenchmarkManagerRun/files=100"},
		{"P3-300", "previewctl/pkg/sandbox/spacelift", "BenchmarkManagerRun/files=300"},
		{"P3-ratio-100", "previewctl/pkg/sandbox/spacelift", "BenchmarkManagerRun/files=100"},
		{"P3-ratio-300", "previewctl/pkg/sandbox/spacelift", "BenchmarkManagerRun/files=300"},
		{"P4", "previewctl/pkg/sandbox/githost", "BenchmarkContentsAPI100Writers/action-defaults"},
		{"P5-cold", "service/rie", "BenchmarkColdStart"},
		{"P5-sandbox", "previewctl/pkg/sandbox", "BenchmarkColdStart"},
		{"Trigger", "policies", "BenchmarkTrigger/stacks=10000/changes=50000"},
		{"P1", "previewctl/pkg/demo", "BenchmarkPREventToURL/stacks=1"},
		{"P1-two-stack", "previewctl/pkg/demo", "BenchmarkPREventToURL/stacks=2"},
	} {
		var row *Row
		for i := range Rows {
			if Rows[i].ID == tc.id {
				row = &Rows[i]
			}
		}
		if row == nil {
			t.Fatalf("no row %s", tc.id)
		}
		fn, _, _ := strings.Cut(tc.name, "/")
		if !row.feeds(tc.dir, fn) || !row.matches(tc.name) {
			t.Errorf("row %s does not match %s in %s", tc.id, tc.name, tc.dir)
		}
	}
	// Sizes must not bleed into each other.
	for _, id := range []string{"P3-100", "P3-ratio-100"} {
		for _, r := range Rows {
			if r.ID == id && r.matches("BenchmarkManagerRun/files=1000") {
				t.Errorf("%s matches the 1,000-file result", id)
			}
		}
	}
}

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{{0, "0"}, {0.934, "0.934"}, {0.9, "0.9"}, {2.479134, "2.48"}, {12.34, "12.3"}, {456.7, "457"}, {12345, "12,345"}, {1234567.8, "1,234,568"}, {-4500, "-4,500"}, {0.000123, "0.000123"}} {
		if got := num(tc.v); got != tc.want {
			t.Errorf("num(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestReadCold(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body string
		want       *ColdRecord
		err        string
	}{
		{"full", "# by cold-test.sh\ndate: 2026-11-28T06:00:00Z\ncommit: abc123\nseconds: 421.5\nexit: 0\nload: 3.1\ncores: 2\n",
			&ColdRecord{Date: "2026-11-28T06:00:00Z", Commit: "abc123", Seconds: 421.5, Load: "3.1"}, ""},
		{"failed", "date: d\ncommit: c\nseconds: 1\nexit: 2\nfailed: TestA TestB/sub\n",
			&ColdRecord{Date: "d", Commit: "c", Seconds: 1, Exit: 2, Failed: "TestA TestB/sub"}, ""},
		{"bad seconds", "date: x\ncommit: y\nseconds: soon\nexit: 0\n", nil, `seconds "soon"`},
		{"bad exit", "date: x\ncommit: y\nseconds: 1\nexit: no\n", nil, `exit "no"`},
		{"missing line", "date: x\ncommit: y\nseconds: 1\n", nil, "no exit line"},
		{"not key value", "date x\n", nil, "not key: value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadCold(p)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), p) {
					t.Fatalf("err = %v, want one naming %s and %q", err, p, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	if c, err := ReadCold(filepath.Join(dir, "absent")); c != nil || err != nil {
		t.Errorf("absent record: %v, %v; want nil, nil", c, err)
	}
}

func TestSplice(t *testing.T) {
	const b, e = "<!-- b -->", "<!-- e -->"
	for _, tc := range []struct{ name, doc, want string }{
		{"replaces", "x\n" + b + "\nold\n" + e + "\ny\n", "x\n" + b + "\nNEW\n" + e + "\ny\n"},
		{"empty between", b + e, b + "\nNEW\n" + e},
		{"no markers", "x\n", ""},
		{"reversed", e + "\n" + b + "\n", ""},
		{"two begins", b + b + e, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Splice(tc.doc, b, e, "NEW\n")
			if tc.want == "" {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	run := Run{Dir: "d", Funcs: []string{"BenchmarkX", "BenchmarkGone"}}
	outcomes := []Outcome{{Run: run, Elapsed: 1500 * time.Millisecond,
		Out: benchout.Output{Results: []benchout.Result{res("BenchmarkX", 0.93, "a|b")}}}}
	rows := []Row{{ID: "R", What: "thing", Dir: "d", Func: "BenchmarkX", Src: []Src{{"a|b", 1}}, Goal: &Goal{Op: ">=", Value: 0.9}},
		{ID: "M", What: "missing", Func: "BenchmarkNope", Src: []Src{{"x", 1}}}}
	rep := Report{Machine: Machine{CPU: "Test CPU", Cores: 2, MemoryGiB: 4, Go: "go1.26.8 linux/amd64", Commit: "abc", LoadStart: "1.0", LoadEnd: "2.0",
		Date: time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC)}, Elapsed: 90 * time.Second, Figures: Evaluate(rows, outcomes, nil), Outcomes: outcomes, RawPath: "bench/results.txt"}
	var b strings.Builder
	if err := rep.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"Measured 2026-11-28 07:00 UTC by `make bench` in 1m30s on Test CPU, 2 cores, 4.0 GiB memory, go1.26.8 linux/amd64; commit abc.",
		"| R | thing | 0.93 | ≥ 0.9 | pass | `go test -run '^$' -bench '^BenchmarkX$' -benchmem -count 1 ./d` |",
		"| M | missing | not measured: no benchmark BenchmarkNope exists yet in any workspace package | — | not measured |  |",
		"| d | BenchmarkX | 1 | 0.93 a\\|b |",
		"| d | BenchmarkGone | — | not measured: no result printed |",
		"-bench '^(BenchmarkX\\|BenchmarkGone)$'",
		"[`bench/results.txt`](results.txt)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

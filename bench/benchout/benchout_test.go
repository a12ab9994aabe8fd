package benchout

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		results []Result
		failed  []string
		skipped []string
		reasons map[string]string
		cpu     string
	}{
		{
			name: "plain and sub-benchmarks with custom metrics",
			in: `goos: linux
goarch: amd64
pkg: preview-environments/policies
cpu: Intel(R) Xeon(R) Processor
BenchmarkTrigger/stacks=100/changes=500-2         	     100	   1234567 ns/op	         1.234 ms/op	   900 B/op	       3 allocs/op
BenchmarkHandle-2 	  570128	      4301 ns/op
PASS
ok  	preview-environments/policies	12.3s
`,
			results: []Result{
				{Pkg: "preview-environments/policies", Name: "BenchmarkTrigger/stacks=100/changes=500", Procs: 2, N: 100,
					Metrics: []Metric{{1234567, "ns/op"}, {1.234, "ms/op"}, {900, "B/op"}, {3, "allocs/op"}}},
				{Pkg: "preview-environments/policies", Name: "BenchmarkHandle", Procs: 2, N: 570128, Metrics: []Metric{{4301, "ns/op"}}},
			},
			cpu: "Intel(R) Xeon(R) Processor",
		},
		{
			name: "GOMAXPROCS=1 has no suffix; logs between name and result",
			in: `pkg: a/b
BenchmarkX
    x_test.go:10: some log
BenchmarkX 	       3	 5.5e+08 ns/op	 0.93 gateway/direct
`,
			results: []Result{{Pkg: "a/b", Name: "BenchmarkX", Procs: 1, N: 3, Metrics: []Metric{{5.5e8, "ns/op"}, {0.93, "gateway/direct"}}}},
		},
		{
			name: "failures and skips with their reasons, packages switch",
			in: `pkg: a/one
--- FAIL: BenchmarkBroken-2
    broken_test.go:9: emulator missing: run make tools
--- SKIP: BenchmarkCloud
    cloud_test.go:3: skipped: AWS_REGION not set
FAIL
pkg: a/two
BenchmarkOK-2 	1	10 ns/op
`,
			results: []Result{{Pkg: "a/two", Name: "BenchmarkOK", Procs: 2, N: 1, Metrics: []Metric{{10, "ns/op"}}}},
			failed:  []string{"BenchmarkBroken"},
			skipped: []string{"BenchmarkCloud"},
			reasons: map[string]string{
				"BenchmarkBroken": "broken_test.go:9: emulator missing: run make tools",
				"BenchmarkCloud":  "cloud_test.go:3: skipped: AWS_REGION not set",
			},
		},
		{
			name: "lines that only look like results are ignored",
			in: `BenchmarkNotANumber-2 	many	10 ns/op
BenchmarkOddFields-2 	1	10 ns/op 5
BenchmarkBadValue-2 	1	ten ns/op
Benchmarking the world
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Parse(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out.Results, tc.results) {
				t.Errorf("results:\n got %+v\nwant %+v", out.Results, tc.results)
			}
			if !reflect.DeepEqual(out.Failed, tc.failed) || !reflect.DeepEqual(out.Skipped, tc.skipped) {
				t.Errorf("failed %v skipped %v, want %v %v", out.Failed, out.Skipped, tc.failed, tc.skipped)
			}
			if tc.reasons == nil {
				tc.reasons = map[string]string{}
			}
			if !reflect.DeepEqual(out.Reasons, tc.reasons) {
				t.Errorf("reasons %v, want %v", out.Reasons, tc.reasons)
			}
			if out.CPU != tc.cpu {
				t.Errorf("cpu %q, want %q", out.CPU, tc.cpu)
			}
		})
	}
}

func TestMetric(t *testing.T) {
	r := Result{Metrics: []Metric{{1, "ns/op"}, {2, "ms/op"}}}
	for _, tc := range []struct {
		unit string
		want float64
		ok   bool
	}{{"ns/op", 1, true}, {"ms/op", 2, true}, {"B/op", 0, false}} {
		if v, ok := r.Metric(tc.unit); v != tc.want || ok != tc.ok {
			t.Errorf("Metric(%q) = %v, %v; want %v, %v", tc.unit, v, ok, tc.want, tc.ok)
		}
	}
}

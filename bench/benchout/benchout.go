// Package benchout reads the text that `go test -bench` prints: result lines
// with their package, and the benchmarks that failed or were skipped.
package benchout

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Metric is one value/unit pair of a result line, in the order printed.
type Metric struct {
	Value float64
	Unit  string
}

// Result is one benchmark result line.
type Result struct {
	Pkg     string // import path from the preceding "pkg:" line
	Name    string // full name without the -GOMAXPROCS suffix, e.g. BenchmarkX/sub=1
	Procs   int    // the GOMAXPROCS suffix; 1 when absent
	N       int    // iterations
	Metrics []Metric
}

// Metric returns the value reported in unit.
func (r Result) Metric(unit string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Unit == unit {
			return m.Value, true
		}
	}
	return 0, false
}

// Output is everything read from one or more runs.
type Output struct {
	Results []Result
	// Failed and Skipped name benchmarks (full names) from "--- FAIL:" and
	// "--- SKIP:" lines; Reasons holds the first indented line after each.
	Failed  []string
	Skipped []string
	Reasons map[string]string
	CPU     string // the last "cpu:" line
}

var procsSuffix = regexp.MustCompile(`-(\d+)$`)

// Parse reads go test -bench output. Lines it does not know are ignored, as
// go test interleaves logs, PASS/ok lines and the tests' own output.
func Parse(r io.Reader) (Output, error) {
	out := Output{Reasons: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	pkg, pending := "", ""
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimSpace(strings.TrimPrefix(line, "pkg: "))
			continue
		case strings.HasPrefix(line, "cpu: "):
			out.CPU = strings.TrimSpace(strings.TrimPrefix(line, "cpu: "))
			continue
		case strings.HasPrefix(trimmed, "--- FAIL: Benchmark"), strings.HasPrefix(trimmed, "--- SKIP: Benchmark"):
			f := strings.Fields(trimmed)
			name := stripProcs(f[2])
			if f[1] == "FAIL:" {
				out.Failed = append(out.Failed, name)
			} else {
				out.Skipped = append(out.Skipped, name)
			}
			pending = name
			continue
		}
		if pending != "" {
			if trimmed != "" && line != trimmed {
				out.Reasons[pending] = trimmed
			}
			pending = ""
		}
		if res, ok := parseResult(line); ok {
			res.Pkg = pkg
			out.Results = append(out.Results, res)
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("read benchmark output: %w", err)
	}
	return out, nil
}

// parseResult reads "BenchmarkName-P <N> <value> <unit> [<value> <unit>]...".
func parseResult(line string) (Result, bool) {
	if !strings.HasPrefix(line, "Benchmark") {
		return Result{}, false
	}
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 {
		return Result{}, false
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return Result{}, false
	}
	res := Result{Name: stripProcs(f[0]), Procs: procs(f[0]), N: n}
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return Result{}, false
		}
		res.Metrics = append(res.Metrics, Metric{Value: v, Unit: f[i+1]})
	}
	return res, true
}

func stripProcs(name string) string { return procsSuffix.ReplaceAllString(name, "") }

func procs(name string) int {
	m := procsSuffix.FindStringSubmatch(name)
	if m == nil {
		return 1
	}
	p, _ := strconv.Atoi(m[1])
	return p
}

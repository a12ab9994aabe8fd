package report

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is everything results.md shows.
type Report struct {
	Machine  Machine
	Elapsed  time.Duration
	Figures  []Figure
	Outcomes []Outcome
	RawPath  string // committed raw output, relative to the root
}

// Without drops the runs not run for reason, and the rows they left
// unmeasured: a partial run shows only what it measured.
func (r Report) Without(reason string) Report {
	var outs []Outcome
	for _, o := range r.Outcomes {
		if o.Status != NotRun || o.Reason != reason {
			outs = append(outs, o)
		}
	}
	var figs []Figure
	for _, f := range r.Figures {
		if f.Has || !strings.Contains(f.Missing, reason) {
			figs = append(figs, f)
		}
	}
	r.Outcomes, r.Figures = outs, figs
	return r
}

// Markdown writes the report.
func (r Report) Markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Benchmark results\n\n")
	b.WriteString("<!-- Written by `make bench` (bench/cmd/benchreport). Do not edit: rerun it. -->\n\n")
	r.intro(&b)
	b.WriteString("## Goals\n\n")
	r.goals(&b)
	r.rest(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is the measured-on paragraph and the goal table, for READMEs.
func (r Report) Summary() string {
	var b strings.Builder
	r.intro(&b)
	r.goals(&b)
	return b.String()
}

func (r Report) intro(b *strings.Builder) {
	m := r.Machine
	fmt.Fprintf(b, "Measured %s by `make bench` in %s on %s; commit %s. ",
		m.Date.Format("2006-01-02 15:04 MST"), r.Elapsed.Round(time.Second), m, m.Commit)
	fmt.Fprintf(b, "1-minute load average %s at start, %s at end: the machine is shared, so absolute figures move from run to run; "+
		"every comparison (gateway vs direct vs pass-through, 100 vs 300 files) is measured within one run.\n\n", m.LoadStart, m.LoadEnd)
	b.WriteString("Commands run from the repository root with `bin/` on PATH (`make tools && export PATH=$PWD/bin:$PATH`); " +
		"`make bench` runs them all.\n\n")
}

func (r Report) goals(b *strings.Builder) {
	b.WriteString("| row | what | figure | goal | result | reproduce |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, f := range r.Figures {
		fig := f.Text
		if !f.Has {
			fig = "not measured: " + f.Missing
		}
		goal := "—"
		if f.Row.Goal != nil {
			goal = orDefault(f.Row.Goal.Label, f.Row.Goal.text(f.Row.Unit))
		}
		cmd := ""
		if f.Command != "" {
			cmd = code(f.Command)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", f.Row.ID, cell(f.Row.What), cell(fig), goal, verdict(f.Verdict()), cmd)
	}
}

func (r Report) rest(b *strings.Builder) {
	b.WriteString("\n## Every benchmark\n\n")
	b.WriteString("Every `Benchmark*` function of the workspace's modules, found in the source: a new one is run from the first `make bench` after it lands.\n\n")
	b.WriteString("| package | benchmark | iterations | figures |\n| --- | --- | --- | --- |\n")
	for _, o := range r.Outcomes {
		shown := map[string]bool{}
		for _, res := range o.Out.Results {
			var ms []string
			for _, mt := range res.Metrics {
				ms = append(ms, num(mt.Value)+" "+mt.Unit)
			}
			shown[res.Name] = true
			fmt.Fprintf(b, "| %s | %s | %d | %s |\n", o.Run.Dir, cell(res.Name), res.N, cell(strings.Join(ms, ", ")))
		}
		for _, fn := range o.Run.Funcs {
			if ranAny(shown, fn) {
				continue
			}
			why := o.Reason
			if reason, ok := o.Out.Reasons[fn]; ok {
				why = reason
			}
			if why == "" {
				why = "no result printed"
			}
			fmt.Fprintf(b, "| %s | %s | — | not measured: %s |\n", o.Run.Dir, fn, cell(why))
		}
	}

	b.WriteString("\n## Runs\n\n| command | wall time | status |\n| --- | --- | --- |\n")
	for _, o := range r.Outcomes {
		st := "ok"
		switch o.Status {
		case Failed:
			st = "failed: " + o.Reason
		case NotRun:
			st = "not run: " + o.Reason
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", code(o.Run.Command()), o.Elapsed.Round(100*time.Millisecond), cell(st))
	}
	if r.RawPath != "" {
		fmt.Fprintf(b, "\nRaw `go test -bench` output of this run: [`%s`](%s). Compare a later run with "+
			"`bin/benchstat %s bench/raw/all.txt`.\n", r.RawPath, strings.TrimPrefix(r.RawPath, "bench/"), r.RawPath)
	}
}

// Splice replaces what lies between the begin and end marker lines of doc
// with block; it refuses a doc without exactly one pair, in order.
func Splice(doc, begin, end, block string) (string, error) {
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < 0 || j < i || strings.Count(doc, begin) != 1 || strings.Count(doc, end) != 1 {
		return "", fmt.Errorf("want exactly one %q line followed by one %q line", begin, end)
	}
	start := i + len(begin)
	return doc[:start] + "\n" + block + doc[j:], nil
}

func ranAny(shown map[string]bool, fn string) bool {
	for name := range shown {
		if name == fn || strings.HasPrefix(name, fn+"/") {
			return true
		}
	}
	return false
}

func verdict(v string) string {
	if v == "FAIL" {
		return "**FAIL**"
	}
	return v
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// code is a code span in a table cell; GitHub needs the pipe escaped even there.
func code(s string) string {
	return "`" + cell(strings.ReplaceAll(s, "`", "'")) + "`"
}

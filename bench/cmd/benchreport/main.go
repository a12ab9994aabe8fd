// Command benchreport runs every benchmark of the workspace with go test,
// one package at a time, and writes bench/results.md: the goal rows
// (figure, goal, pass/fail, command) and every other figure, with the
// machine it ran on. The raw output goes to bench/raw/ and, for benchstat,
// to bench/results.txt.
//
//	benchreport [-root DIR] [-budget 9m30s] [-only REGEXP] [-list]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"preview-environments/bench/discover"
	"preview-environments/bench/report"
)

type options struct {
	root    string
	budget  time.Duration
	timeout time.Duration
	only    string
	list    bool
}

// errRunsFailed: the report was written, but some benchmark failed.
const notSelected = "not selected by -only"

var errRunsFailed = errors.New("some benchmark runs failed (see the Runs table)")

func main() {
	var o options
	flag.StringVar(&o.root, "root", "", "workspace root (default: the nearest directory with go.work)")
	flag.DurationVar(&o.budget, "budget", 9*time.Minute+30*time.Second, "stop starting runs after this long; a run still going then is stopped")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Minute, "go test -timeout for each run")
	flag.StringVar(&o.only, "only", "", "run only benchmarks whose DIR:FUNC matches this regexp; prints the report instead of writing results.md")
	flag.BoolVar(&o.list, "list", false, "print the go test commands and exit")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "benchreport: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, stdout io.Writer) error {
	if o.root == "" {
		r, err := findRoot()
		if err != nil {
			return err
		}
		o.root = r
	}
	var only *regexp.Regexp
	if o.only != "" {
		re, err := regexp.Compile(o.only)
		if err != nil {
			return fmt.Errorf("-only %q: %w", o.only, err)
		}
		only = re
	}
	if o.budget <= 0 || o.timeout <= 0 {
		return fmt.Errorf("-budget %s and -timeout %s must be positive", o.budget, o.timeout)
	}
	mods, err := discover.Modules(o.root)
	if err != nil {
		return err
	}
	funcs, err := discover.Benchmarks(o.root, mods)
	if err != nil {
		return err
	}
	selected := func(r report.Run) bool { return true }
	if only != nil {
		n := 0
		for _, f := range funcs {
			if only.MatchString(f.Dir + ":" + f.Name) {
				n++
			}
		}
		if n == 0 {
			return fmt.Errorf("-only %q matches no benchmark (DIR:FUNC, e.g. policies:BenchmarkTrigger)", o.only)
		}
		// Runs are planned for everything, so rows of unselected packages
		// say "not selected" rather than "does not exist".
		selected = func(r report.Run) bool {
			for _, f := range r.Funcs {
				if only.MatchString(r.Dir + ":" + f) {
					return true
				}
			}
			return false
		}
	}
	runs := report.Plan(funcs, report.Settings, report.Rows, o.timeout.String())
	if o.list {
		for _, r := range runs {
			if selected(r) {
				fmt.Fprintln(stdout, r.Command())
			}
		}
		return nil
	}

	// Read before the runs: a broken record fails in a second, not after ten minutes.
	cold, err := report.ReadCold(filepath.Join(o.root, "bench", "cold-test.txt"))
	if err != nil {
		return err
	}
	rawDir := filepath.Join(o.root, "bench", "raw")
	if err := os.MkdirAll(rawDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", rawDir, err)
	}
	machine := report.Probe(ctx, o.root)
	bctx, cancel := context.WithTimeout(ctx, o.budget)
	defer cancel()
	start := time.Now()
	var outcomes []report.Outcome
	for i, r := range runs {
		if !selected(r) {
			outcomes = append(outcomes, report.Outcome{Run: r, Status: report.NotRun, Reason: notSelected})
			continue
		}
		fmt.Fprintf(stdout, "\n== [%d/%d] %s\n", i+1, len(runs), r.Command())
		outcomes = append(outcomes, report.Exec(bctx, o.root, r, stdout))
	}
	machine.LoadEnd = report.LoadAvg()
	rep := report.Report{Machine: machine, Elapsed: time.Since(start), Figures: report.Evaluate(report.Rows, outcomes, cold), Outcomes: outcomes}

	if only != nil {
		if err := report.WriteRaw(filepath.Join(rawDir, "only.txt"), outcomes); err != nil {
			return err
		}
		rep = rep.Without(notSelected)
		fmt.Fprintln(stdout)
		if err := rep.Markdown(stdout); err != nil {
			return err
		}
	} else {
		stamp := machine.Date.Format("20060102T150405Z")
		for _, p := range []string{filepath.Join(rawDir, "all.txt"), filepath.Join(rawDir, stamp+".txt"), filepath.Join(o.root, "bench", "results.txt")} {
			if err := report.WriteRaw(p, outcomes); err != nil {
				return err
			}
		}
		rep.RawPath = "bench/results.txt"
		var md bytes.Buffer
		if err := rep.Markdown(&md); err != nil {
			return err
		}
		out := filepath.Join(o.root, "bench", "results.md")
		if err := report.WriteAtomic(out, md.Bytes()); err != nil {
			return err
		}
		if err := updateReadme(filepath.Join(o.root, "bench", "README.md"), rep.Summary()); err != nil {
			fmt.Fprintf(stdout, "benchreport: README not updated: %v\n", err)
		}
		fmt.Fprintf(stdout, "\nwrote %s (raw output: bench/results.txt, bench/raw/%s.txt) in %s\n", out, stamp, rep.Elapsed.Round(time.Second))
	}
	for _, oc := range outcomes {
		if oc.Status != report.Ran && oc.Reason != notSelected {
			return errRunsFailed
		}
	}
	return nil
}

// Markers around the table that bench/README.md quotes.
const (
	readmeBegin = "<!-- benchreport:begin -->"
	readmeEnd   = "<!-- benchreport:end -->"
)

// updateReadme puts the latest summary between the README's markers; a
// README that does not exist is left alone.
func updateReadme(path, summary string) error {
	doc, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	out, err := report.Splice(string(doc), readmeBegin, readmeEnd, summary)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return report.WriteAtomic(path, []byte(out))
}

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find workspace root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find workspace root: no go.work here or above; pass -root")
		}
		dir = parent
	}
}

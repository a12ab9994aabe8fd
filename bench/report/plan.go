// Package report turns the workspace's benchmarks into go test runs, and
// their output into bench/results.md: the goal rows (figure, goal,
// pass/fail, the command that reproduces it) and every other figure.
package report

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"preview-environments/bench/discover"
)

// Setting gives a benchmark its own -benchtime. Benchmarks without one run
// with go test's default (1s), which is bounded because every op is.
type Setting struct {
	Dir       string // "" matches the function in any package
	Func      string
	Benchtime string // e.g. "50x", "2s"
}

// Settings: the iteration counts each part chose for its own benchmark
// (moved here from the per-part bench targets, which this replaces).
var Settings = []Setting{
	{"previewctl/pkg/sandbox", "BenchmarkGatewayVsDirect", "4000x"},
	{"previewctl/pkg/sandbox", "BenchmarkColdStart", "100x"},
	{"previewctl/pkg/sandbox/githost", "BenchmarkCommitFilesEvent", "50x"},
	{"previewctl/pkg/sandbox/githost", "BenchmarkImportMonorepo", "10x"},
	{"previewctl/pkg/sandbox/githost", "BenchmarkContentsAPI100Writers", "3x"},
	// One op is a whole PR lifecycle step (CI, manager run, deploy): a few
	// are enough for a median, many would blow the 10-minute budget.
	{"", "BenchmarkPREventToURL", "5x"},
	// Each op is a real manager run plus a bare tofu plan of the same tree
	// (about a minute at 300 files): one per size keeps make bench inside
	// its 10-minute budget; the ratio compares the two within the op.
	{"previewctl/pkg/sandbox/spacelift", "BenchmarkManagerRun", "1x"},
}

// Run is one go test invocation: some benchmarks of one package that share
// a -benchtime.
type Run struct {
	Dir       string
	Funcs     []string
	Benchtime string // "" = go test's default
	Timeout   string // go test -timeout
}

// Args are go test's arguments, package last.
func (r Run) Args() []string {
	args := []string{"test", "-run", "^$", "-bench", "^(" + strings.Join(r.Funcs, "|") + ")$"}
	if r.Benchtime != "" {
		args = append(args, "-benchtime", r.Benchtime)
	}
	args = append(args, "-benchmem", "-count", "1")
	if r.Timeout != "" {
		args = append(args, "-timeout", r.Timeout)
	}
	return append(args, "./"+r.Dir)
}

// Command is the shell command for Args, run from the repository root.
func (r Run) Command() string { return shellJoin(append([]string{"go"}, r.Args()...)) }

// CommandFor is the command that reruns only the named result (a full
// benchmark name, sub-benchmarks included) with this run's settings.
func (r Run) CommandFor(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	args := r.Args()
	for i := range args {
		if args[i] == "-bench" {
			args[i+1] = strings.Join(parts, "/")
		}
	}
	// The per-run timeout only bounds the batch; one benchmark alone needs none.
	for i := 0; i < len(args); i++ {
		if args[i] == "-timeout" {
			args = append(args[:i], args[i+2:]...)
		}
	}
	return shellJoin(append([]string{"go"}, args...))
}

// Plan groups the discovered benchmarks into runs: one per package and
// -benchtime. Runs that feed a goal row come first, so that a run out of
// time budget loses only the extra figures.
func Plan(funcs []discover.Func, settings []Setting, rows []Row, timeout string) []Run {
	type key struct{ dir, bt string }
	byKey := map[key]*Run{}
	var order []key
	for _, f := range funcs {
		bt := ""
		for _, s := range settings {
			if s.Func == f.Name && (s.Dir == "" || s.Dir == f.Dir) {
				bt = s.Benchtime
				break
			}
		}
		k := key{f.Dir, bt}
		if byKey[k] == nil {
			byKey[k] = &Run{Dir: f.Dir, Benchtime: bt, Timeout: timeout}
			order = append(order, k)
		}
		byKey[k].Funcs = append(byKey[k].Funcs, f.Name)
	}
	runs := make([]Run, 0, len(order))
	for _, k := range order {
		runs = append(runs, *byKey[k])
	}
	feeds := func(r Run) bool {
		for _, row := range rows {
			for _, f := range r.Funcs {
				if row.feeds(r.Dir, f) {
					return true
				}
			}
		}
		return false
	}
	sort.SliceStable(runs, func(i, j int) bool { return feeds(runs[i]) && !feeds(runs[j]) })
	return runs
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./=:,+-]+$`)

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if shellSafe.MatchString(a) {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

func (r Run) String() string { return fmt.Sprintf("%s %v", r.Dir, r.Funcs) }

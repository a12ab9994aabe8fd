package report

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"preview-environments/bench/benchout"
)

// Src is a unit a benchmark reports and the factor that turns its value into
// the row's display unit. A unit ending in "*" matches by prefix.
type Src struct {
	Unit  string
	Scale float64
}

// Goal is the target for a row.
type Goal struct {
	Op    string // "<=", ">=", "=="
	Value float64
	Label string // shown instead of Op and Value when set
}

func (g Goal) met(v float64) bool {
	switch g.Op {
	case "<=":
		return v <= g.Value
	case ">=":
		return v >= g.Value
	default:
		return v == g.Value
	}
}

func (g Goal) text(unit string) string {
	op := map[string]string{"<=": "≤", ">=": "≥", "==": "="}[g.Op]
	if unit == "×" {
		return op + " " + num(g.Value) + unit
	}
	return strings.TrimSpace(op + " " + num(g.Value) + " " + unit)
}

// Detail is a figure shown next to a row's main one, from the same result.
type Detail struct {
	Label string
	Src   []Src
	Unit  string
}

// Row is one of the goal rows. Plain rows read one metric of one
// benchmark result; rows with Compute derive their figure from other rows
// or from the cold-cache record.
type Row struct {
	ID, What string
	Dir      string // package directory; "" = wherever Func is
	Func     string // regexp for the benchmark function's name, anchored
	Sub      string // regexp for the sub-benchmark part of the name, anchored; "" = the top-level result
	Src      []Src  // candidate units, in order of preference
	Unit     string
	Goal     *Goal
	Detail   []Detail
	Compute  func(Env) Figure
}

// Env is what derived rows see.
type Env struct {
	Figures map[string]Figure // plain rows by ID
	Cold    *ColdRecord
}

// Figure is a row's outcome.
type Figure struct {
	Row     Row
	Has     bool
	Value   float64
	Text    string // the figure as shown
	Missing string // why there is no figure
	Command string
	Bench   string // full benchmark name the figure came from
}

// Verdict is "pass", "FAIL", "—" (no goal) or "not measured".
func (f Figure) Verdict() string {
	switch {
	case !f.Has:
		return "not measured"
	case f.Row.Goal == nil:
		return "—"
	case f.Row.Goal.met(f.Value):
		return "pass"
	default:
		return "FAIL"
	}
}

const (
	sandboxDir   = "previewctl/pkg/sandbox"
	spaceliftDir = "previewctl/pkg/sandbox/spacelift"
)

// p3 is the real-engine manager-run row for n environment files: the
// run's time, with the bare `tofu plan` of the same tree beside it.
func p3(id string, n int) Row {
	return Row{
		ID: id, What: fmt.Sprintf("manager run over %s environment files, real OpenTofu (checkout, init, plan, apply of one change, trigger policy)", num(float64(n))),
		Dir: spaceliftDir, Func: "BenchmarkManagerRun", Sub: "files=" + strconv.Itoa(n),
		Src: []Src{{"ms/manager-run", 1}}, Unit: "ms",
		Detail: []Detail{{"bare tofu plan", []Src{{"ms/bare-plan", 1}}, "ms"}, {"per file", []Src{{"µs/file", 1}}, "µs"},
			{"trigger policy", []Src{{"ms/trigger-policy", 1}}, "ms"}},
	}
}

// p3Ratio is a manager run against the bare plan of the same tree.
func p3Ratio(id string, n int) Row {
	return Row{
		ID: id, What: fmt.Sprintf("manager run ÷ bare `tofu plan` of the same tree, %s files, same run", num(float64(n))),
		Dir: spaceliftDir, Func: "BenchmarkManagerRun", Sub: "files=" + strconv.Itoa(n),
		Src: []Src{{"ratio", 1}}, Unit: "×", Goal: &Goal{Op: "<=", Value: 1.2},
	}
}

// Rows are the goals, in its order.
var Rows = []Row{
	{ID: "P1", What: "PR event to URL serving the new head sha, one-stack environment, sandbox on the real OpenTofu engine (median; compile excluded)",
		Func: "BenchmarkPREventToURL", Sub: "stacks=1", Src: []Src{{"ms-event-to-url", 1}}, Unit: "ms", Goal: &Goal{Op: "<=", Value: 5000}},
	{ID: "P1-two-stack", What: "the same for a two-stack environment (data stack, then the service stack that depends on it), same run",
		Func: "BenchmarkPREventToURL", Sub: "stacks=2", Src: []Src{{"ms-event-to-url", 1}}, Unit: "ms", Goal: &Goal{Op: "<=", Value: 5000}},
	{ID: "P1-compile", What: "artifact compile in the one-stack run, its own row",
		Func: "BenchmarkPREventToURL", Sub: "stacks=1", Src: []Src{{"ms-compile", 1}}, Unit: "ms"},
	{ID: "P2", What: "gateway vs direct emulator invokes of the same warm function, one run: req/s ratio",
		Dir: sandboxDir, Func: "BenchmarkGatewayVsDirect", Src: []Src{{"gateway/direct", 1}}, Goal: &Goal{Op: ">=", Value: 0.9},
		Detail: []Detail{{"gateway", []Src{{"gateway-req/s", 1}}, "req/s"}, {"direct", []Src{{"direct-req/s", 1}}, "req/s"}}},
	{ID: "P2-hop", What: "pass-through ÷ direct, same run: an HTTP server like the sandbox's sending the same event through the same pool, none of the gateway's work. The bound for anything behind one loopback HTTP hop: P2 cannot score above it",
		Dir: sandboxDir, Func: "BenchmarkGatewayVsDirect", Src: []Src{{"passthrough/direct", 1}},
		Detail: []Detail{{"pass-through", []Src{{"passthrough-req/s", 1}}, "req/s"}}},
	{ID: "P2-gateway", What: "gateway ÷ pass-through, same run: what the gateway's own work costs (routing, proxy event, JSON both ways, response mapping)",
		Dir: sandboxDir, Func: "BenchmarkGatewayVsDirect", Src: []Src{{"gateway/passthrough", 1}}, Goal: &Goal{Op: ">=", Value: 0.9},
		Detail: []Detail{{"gateway CPU", []Src{{"gateway-cpu-µs/req", 1}}, "µs/req"}, {"pass-through CPU", []Src{{"passthrough-cpu-µs/req", 1}}, "µs/req"}}},
	p3("P3-100", 100),
	p3("P3-300", 300),
	p3Ratio("P3-ratio-100", 100),
	p3Ratio("P3-ratio-300", 300),
	{ID: "P3-linear", What: "manager run cost per file, 300 files vs 100 (1 = linear)", Unit: "×",
		Goal: &Goal{Op: "<=", Value: 2}, Compute: linear("P3-100", 100, "P3-300", 300)},
	{ID: "P4", What: "100 concurrent PR writes, update-file-action (its default backoff) against the GitHub stand-in on git: wall time",
		Dir: sandboxDir + "/githost", Func: "BenchmarkContentsAPI100Writers", Sub: "action-defaults",
		Src: []Src{{"ms/100-writers", 1}}, Unit: "ms",
		Detail: []Detail{{"retries", []Src{{"retries/100-writers", 1}}, ""}, {"max attempts", []Src{{"max-attempts", 1}}, ""}}},
	{ID: "P4-failures", What: "failed writes among those 100", Goal: &Goal{Op: "==", Value: 0}, Compute: noFailures("P4")},
	{ID: "P4-contention", What: "the same race against the contents-API stand-in with commit latency (update-file-action): failed writes per race",
		Dir: "update-file-action/updatefile", Func: "BenchmarkContention100Writers", Src: []Src{{"errors/op", 1}}, Goal: &Goal{Op: "==", Value: 0},
		Detail: []Detail{{"wall", []Src{{"ns/op", 1e-6}}, "ms"}, {"retries", []Src{{"retries/op", 1}}, ""}}},
	{ID: "P5-size", What: "artifact zip size (linux/arm64)",
		Dir: "service/artifact", Func: "BenchmarkArtifactSize", Src: []Src{{"zip-bytes", 1e-6}}, Unit: "MB", Goal: &Goal{Op: "<=", Value: 5},
		Detail: []Detail{{"bootstrap", []Src{{"bootstrap-bytes", 1e-6}}, "MB"}}},
	{ID: "P5-cold", What: "cold start under AWS's emulator: process start to first response",
		Dir: "service/rie", Func: "BenchmarkColdStart", Src: []Src{{"ms/op-first-response", 1}}, Unit: "ms", Goal: &Goal{Op: "<=", Value: 50}},
	{ID: "P5-s3", What: "cold start under AWS's emulator, the first response reading its greeting from S3 (a two-stack environment's function)",
		Dir: "service/rie", Func: "BenchmarkColdStartS3", Src: []Src{{"ms/op-first-response", 1}}, Unit: "ms", Goal: &Goal{Op: "<=", Value: 50}},
	{ID: "P5-sandbox", What: "sandbox: first response of a newly deployed version (after its deploy)",
		Dir: sandboxDir, Func: "BenchmarkColdStart", Src: []Src{{"ms/op-first-response", 1}}, Unit: "ms",
		Detail: []Detail{{"deploy", []Src{{"ms/op-deploy", 1}}, "ms"}}},
	{ID: "Trigger", What: "trigger policy, 10,000 stacks and 50,000 changes (Go evaluator, end to end)",
		Dir: "policies", Func: "BenchmarkTrigger", Sub: "stacks=10000/changes=50000",
		Src: []Src{{"ms/op", 1}, {"ns/op", 1e-6}}, Unit: "ms", Goal: &Goal{Op: "<=", Value: 200},
		Detail: []Detail{{"CPU", []Src{{"cpu-ms/op", 1}}, "ms"}}},
	{ID: "P6", What: "`make test` wall time on a cold cache (fresh clone, empty build and module caches, tools built)",
		Unit: "s", Goal: &Goal{Op: "<=", Value: 600, Label: "≤ 10 min"}, Compute: cold},
}

// Evaluate computes every row's figure from the runs' outcomes.
func Evaluate(rows []Row, outcomes []Outcome, cr *ColdRecord) []Figure {
	env := Env{Figures: map[string]Figure{}, Cold: cr}
	figs := make([]Figure, len(rows))
	for i, r := range rows {
		if r.Compute == nil {
			figs[i] = plain(r, outcomes)
			env.Figures[r.ID] = figs[i]
		}
	}
	for i, r := range rows {
		if r.Compute != nil {
			figs[i] = r.Compute(env)
			figs[i].Row = r
		}
	}
	return figs
}

func anchored(re string) *regexp.Regexp { return regexp.MustCompile("^(?:" + re + ")$") }

// matches reports whether a full result name belongs to the row.
func (r Row) matches(name string) bool {
	fn, sub, _ := strings.Cut(name, "/")
	if !anchored(r.Func).MatchString(fn) {
		return false
	}
	if r.Sub == "" {
		return sub == ""
	}
	return anchored(r.Sub).MatchString(sub)
}

func (r Row) feeds(dir, fn string) bool {
	return r.Compute == nil && (r.Dir == "" || r.Dir == dir) && anchored(r.Func).MatchString(fn)
}

func plain(r Row, outcomes []Outcome) Figure {
	f := Figure{Row: r}
	var found []Outcome
	for _, o := range outcomes {
		for _, fn := range o.Run.Funcs {
			if r.feeds(o.Run.Dir, fn) {
				found = append(found, o)
				break
			}
		}
	}
	if len(found) == 0 {
		where := "in any workspace package"
		if r.Dir != "" {
			where = "in " + r.Dir
		}
		f.Missing = fmt.Sprintf("no benchmark %s exists yet %s", r.Func, where)
		return f
	}
	for _, o := range found {
		for _, res := range o.Out.Results {
			if !r.matches(res.Name) {
				continue
			}
			f.Bench, f.Command = res.Name, o.Run.CommandFor(res.Name)
			v, ok := pick(res, r.Src)
			if !ok {
				f.Missing = fmt.Sprintf("%s reports no %s (it reports: %s)", res.Name, srcUnits(r.Src), units(res))
				return f
			}
			f.Has, f.Value = true, v
			f.Text = strings.TrimSpace(num(v) + " " + r.Unit)
			var ds []string
			for _, d := range r.Detail {
				if dv, ok := pick(res, d.Src); ok {
					ds = append(ds, strings.TrimSpace(d.Label+" "+num(dv)+" "+d.Unit))
				}
			}
			if len(ds) > 0 {
				f.Text += " (" + strings.Join(ds, ", ") + ")"
			}
			return f
		}
	}
	o := found[0]
	f.Command = o.Run.Command()
	switch {
	case o.Status == NotRun:
		f.Missing = "not run: " + o.Reason
	case failedFor(r, o.Out.Failed) != "":
		name := failedFor(r, o.Out.Failed)
		f.Missing = "benchmark failed: " + orDefault(o.Out.Reasons[name], o.Reason)
	case failedFor(r, o.Out.Skipped) != "":
		name := failedFor(r, o.Out.Skipped)
		f.Missing = "benchmark skipped: " + o.Out.Reasons[name]
	case o.Status == Failed:
		f.Missing = "run failed: " + o.Reason
	default:
		f.Missing = "the benchmark printed no result matching " + r.Func + orDefault(prefix("/", r.Sub), "")
	}
	return f
}

// failedFor returns the first failed/skipped name that is this row's
// benchmark, one of its parents or one of its sub-benchmarks.
func failedFor(r Row, names []string) string {
	for _, n := range names {
		fn, _, _ := strings.Cut(n, "/")
		if anchored(r.Func).MatchString(fn) {
			return n
		}
	}
	return ""
}

func pick(res benchout.Result, srcs []Src) (float64, bool) {
	for _, s := range srcs {
		for _, m := range res.Metrics {
			if m.Unit == s.Unit || (strings.HasSuffix(s.Unit, "*") && strings.HasPrefix(m.Unit, strings.TrimSuffix(s.Unit, "*"))) {
				return m.Value * s.Scale, true
			}
		}
	}
	return 0, false
}

func srcUnits(srcs []Src) string {
	var u []string
	for _, s := range srcs {
		u = append(u, s.Unit)
	}
	return strings.Join(u, " or ")
}

func units(res benchout.Result) string {
	var u []string
	for _, m := range res.Metrics {
		u = append(u, m.Unit)
	}
	return strings.Join(u, ", ")
}

func linear(smallID string, small int, bigID string, big int) func(Env) Figure {
	return func(env Env) Figure {
		s, b := env.Figures[smallID], env.Figures[bigID]
		var f Figure
		switch {
		case !s.Has || !b.Has:
			f.Missing = fmt.Sprintf("needs %s and %s", smallID, bigID)
		case s.Value <= 0:
			f.Missing = smallID + " measured 0"
		default:
			f.Has = true
			f.Value = (b.Value / float64(big)) / (s.Value / float64(small))
			f.Text = fmt.Sprintf("%s× (%s ms per 1,000 files at %s, %s ms at %s)", num(f.Value),
				num(s.Value/float64(small)*1000), num(float64(small)), num(b.Value/float64(big)*1000), num(float64(big)))
		}
		f.Command = "from " + smallID + " and " + bigID
		return f
	}
}

// noFailures: githost's 100-writer benchmark stops with b.Fatalf("writer
// %d: ...") on the first failed write, so a result means none failed and
// that failure means at least one did.
func noFailures(id string) func(Env) Figure {
	return func(env Env) Figure {
		src := env.Figures[id]
		f := Figure{Command: src.Command}
		if reason, ok := strings.CutPrefix(src.Missing, "benchmark failed: "); ok && writerFailed.MatchString(reason) {
			f.Has, f.Value = true, 1
			f.Text = "at least 1 (the benchmark stops at the first): " + reason
			return f
		}
		if !src.Has {
			f.Missing = "needs " + id + ": " + src.Missing
			return f
		}
		f.Has, f.Text = true, "0 (the benchmark fails on any failed write)"
		return f
	}
}

var writerFailed = regexp.MustCompile(`(^|: )writer \d+: `)

func cold(env Env) Figure {
	f := Figure{Command: "make bench-cold"}
	c := env.Cold
	if c == nil {
		f.Missing = "never recorded: run make bench-cold (about 10 minutes; too slow for make bench)"
		return f
	}
	d := time.Duration(c.Seconds * float64(time.Second)).Round(time.Second)
	f.Has, f.Value = true, c.Seconds
	f.Text = fmt.Sprintf("%s, recorded %s at %s", d, c.Date, c.Commit)
	if c.Exit != 0 {
		// A failed run does not prove the goal: show it, and fail the row.
		f.Text = fmt.Sprintf("make test exited %d after %s, recorded %s at %s", c.Exit, d, c.Date, c.Commit)
		if c.Failed != "" {
			f.Text += "; failed: " + c.Failed
		}
		f.Value = math.Inf(1)
	}
	return f
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func prefix(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// num formats v with about three significant digits and thousands
// separators: 0.934, 12.3, 456, 12,345.
func num(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return fmt.Sprint(v)
	}
	a := math.Abs(v)
	var s string
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	default:
		s = strconv.FormatFloat(v, 'g', 3, 64)
	}
	if strings.Contains(s, ".") && !strings.Contains(s, "e") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if len(intPart) > 3 && !strings.Contains(intPart, "e") {
		var b strings.Builder
		for i, c := range intPart {
			if i > 0 && (len(intPart)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		intPart = b.String()
	}
	if hasFrac {
		intPart += "." + frac
	}
	if neg {
		intPart = "-" + intPart
	}
	return intPart
}

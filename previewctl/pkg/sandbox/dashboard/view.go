package dashboard

import (
	"context"
	"fmt"
	"html/template"
	"sort"
	"strconv"
	"strings"
	"time"

	"preview-environments/previewctl/pkg/sandbox"
	"preview-environments/previewctl/pkg/sandbox/spacelift"
)

// Environment states the page shows: one word for what a person wants to
// know (can I use it, is it changing, is it going away, is it broken).
const (
	StateCreating   = "creating"
	StateLive       = "live"
	StateUpdating   = "updating"
	StateDestroying = "destroying"
	StateFailed     = "failed"
)

// Preview states written by the platform's CI emulation (platform.Preview*).
const (
	previewBuilding   = "building"
	previewRendering  = "rendering"
	previewDeploying  = "deploying"
	previewLive       = "live"
	previewFailed     = "failed"
	previewDestroying = "destroying"
	previewDestroyed  = "destroyed"
)

// Labels the environment template puts on each stack.
const (
	labelExpires = "preview-expires-at:"
	labelOwner   = "preview-pr-owner:"
	labelName    = "preview-name:" // an on-demand environment's name
	labelRepo    = "preview-pr-repository:"
	labelNumber  = "preview-pr-number:"
)

// View is what the templates render.
type View struct {
	Now          time.Time
	SandboxURL   string
	Environments []EnvRow
	Stacks       []StackView
	OrphanRuns   []RunView // runs of stacks that no longer exist (destroyed environments)
	Evaluations  []spacelift.PolicyEvaluation
	Errors       []string
}

// EnvRow is one environment.
type EnvRow struct {
	ID          string
	Service     string
	PR          string // owner/repo#number
	CodeVersion string // full sha or "latest"
	InfraBranch string
	State       string
	Detail      string // the states it was derived from, for the title
	URL         string
	Created     time.Time
	Expires     time.Time
	StackID     string
}

// StackView is a stack with its latest runs.
type StackView struct {
	spacelift.Stack
	Runs []RunView
}

// RunView is a run with the size of its log (the log itself is fetched
// when a person opens it: logs are most of a busy page's bytes).
type RunView struct {
	spacelift.Run
	LogLines int
}

// LogView is one run's log as the log fragment shows it.
type LogView struct {
	RunID string
	Lines []spacelift.LogLine
	Cut   int // lines left out at the start
}

// TriggerRun is the run whose end triggered this one (trigger policy), or "".
func (r RunView) TriggerRun() string {
	switch r.TriggeredBy {
	case "", "destructor", "user":
		return ""
	}
	return r.TriggeredBy
}

// collect reads everything the page shows. A part that fails to read is
// reported on the page; the rest still shows.
func (d *Dashboard) collect(ctx context.Context) View {
	v := View{Now: d.now().UTC(), SandboxURL: d.src.Sandbox.URL()}
	previews, err := d.src.Previews(ctx)
	if err != nil {
		v.addErr("previews", err)
	}
	stacks, err := d.src.Engine.Stacks(ctx)
	if err != nil {
		v.addErr("stacks", err)
	}
	deployed := map[string]string{} // environment ID -> version it serves
	for _, e := range d.src.Sandbox.Environments() {
		deployed[e.ID] = e.Version
	}

	known := map[string]bool{}
	for _, s := range stacks {
		sv := StackView{Stack: s}
		runs, err := d.src.Engine.Runs(ctx, s.ID, runsPerStack)
		if err != nil {
			v.addErr("runs of "+s.ID, err)
		}
		for _, r := range runs {
			sv.Runs = append(sv.Runs, d.runView(ctx, &v, r))
		}
		known[s.ID] = true
		v.Stacks = append(v.Stacks, sv)
	}
	sort.SliceStable(v.Stacks, func(i, j int) bool {
		// The manager first, then environments by creation.
		a, b := v.Stacks[i], v.Stacks[j]
		if (a.EnvironmentID == "") != (b.EnvironmentID == "") {
			return a.EnvironmentID == ""
		}
		return a.CreatedAt.Before(b.CreatedAt)
	})
	if recent, err := d.src.Engine.Runs(ctx, "", orphanRuns); err != nil {
		v.addErr("runs", err)
	} else {
		for _, r := range recent {
			if !known[r.StackID] {
				v.OrphanRuns = append(v.OrphanRuns, d.runView(ctx, &v, r))
			}
		}
	}
	if v.Evaluations, err = d.src.Engine.Evaluations(ctx, evaluations); err != nil {
		v.addErr("policy evaluations", err)
	}
	v.Environments = environments(previews, v.Stacks, deployed, func(id, service string) string {
		return sandbox.EnvironmentURL(d.src.Sandbox.Addr(), id, service)
	}, d.src.Service)
	return v
}

func (v *View) addErr(what string, err error) {
	if s := errText(what, err); s != "" {
		v.Errors = append(v.Errors, s)
	}
}

func (d *Dashboard) runView(ctx context.Context, v *View, r spacelift.Run) RunView {
	rv := RunView{Run: r}
	n, err := d.src.Engine.LogLines(ctx, r.ID)
	if err != nil {
		v.addErr("log of run "+r.ID, err)
	}
	rv.LogLines = n
	return rv
}

// environments joins the PR previews with the environment stacks: a PR
// whose stack does not exist yet is creating; a stack without a preview
// (an environment file written by hand) still shows.
func environments(previews []Preview, stacks []StackView, deployed map[string]string, urlOf func(id, service string) string, defaultService string) []EnvRow {
	byEnv := map[string]*StackView{}
	for i := range stacks {
		if id := stacks[i].EnvironmentID; id != "" {
			byEnv[id] = &stacks[i]
		}
	}
	var rows []EnvRow
	seen := map[string]bool{}
	for i := range previews {
		pv := &previews[i]
		st := byEnv[pv.EnvironmentID]
		if pv.EnvironmentID == "" || (pv.State == previewDestroyed && st == nil) {
			continue
		}
		seen[pv.EnvironmentID] = true
		v, ok := deployed[pv.EnvironmentID]
		rows = append(rows, envRow(pv, st, ok, v, urlOf, defaultService))
	}
	for id, st := range byEnv {
		if !seen[id] {
			v, ok := deployed[id]
			rows = append(rows, envRow(nil, st, ok, v, urlOf, defaultService))
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		// A row without a stack yet is the newest of all.
		if rows[i].Created.IsZero() != rows[j].Created.IsZero() {
			return rows[i].Created.IsZero()
		}
		if !rows[i].Created.Equal(rows[j].Created) {
			return rows[i].Created.After(rows[j].Created)
		}
		return rows[i].ID < rows[j].ID
	})
	return rows
}

func envRow(pv *Preview, st *StackView, deployed bool, deployedVersion string, urlOf func(id, service string) string, defaultService string) EnvRow {
	row := EnvRow{Service: defaultService}
	var last *spacelift.Run
	if st != nil {
		row.ID = st.EnvironmentID
		row.StackID = st.ID
		if st.Service != "" {
			row.Service = st.Service
		}
		row.InfraBranch = st.Branch
		row.CodeVersion = st.Env["TF_VAR_code_version"]
		row.Created = st.CreatedAt
		owner, repo, number := label(st.Labels, labelOwner), label(st.Labels, labelRepo), label(st.Labels, labelNumber)
		if owner != "" && number != "" {
			row.PR = owner + "/" + repo + "#" + number
		} else if name := label(st.Labels, labelName); name != "" {
			row.PR = "on demand: " + name
		}
		if t, err := time.Parse(time.RFC3339, label(st.Labels, labelExpires)); err == nil {
			row.Expires = t.UTC()
		}
		if len(st.Runs) > 0 {
			last = &st.Runs[0].Run
		}
	}
	if pv != nil {
		row.ID = pv.EnvironmentID
		row.PR = pv.Owner + "/" + pv.Repo + "#" + strconv.Itoa(pv.Number)
		if pv.Version != "" && row.CodeVersion == "" {
			row.CodeVersion = pv.Version
		}
		row.URL = pv.URL
	}
	if row.URL == "" {
		row.URL = urlOf(row.ID, row.Service)
	}
	var stackState string
	finished := 0
	if st != nil {
		stackState = st.State
		for _, r := range st.Runs {
			if r.Type == spacelift.RunTracked && r.State == spacelift.StateFinished {
				finished++
			}
		}
	}
	// It served an earlier version when two runs applied, or one did and
	// what it serves is not what the preview is deploying now; the first
	// deploy stays "creating" until the CI says live.
	servesWanted := pv != nil && deployedVersion == pv.Version
	wasLive := deployed && (finished >= 2 || (finished == 1 && !servesWanted))
	row.State = DeriveState(pv, stackState, last, deployed, wasLive)
	row.Detail = detail(pv, stackState, last, deployed)
	return row
}

// DeriveState turns the preview's CI state, the stack's state, its latest
// run, whether the data plane serves the environment and whether it served
// an earlier version into the one word the page shows. Work under way wins
// over an earlier failure, so a push that fixes a broken environment shows
// as updating, not failed; the first deploy is creating until it is live,
// even once the function answers.
func DeriveState(pv *Preview, stackState string, last *spacelift.Run, deployed, wasLive bool) string {
	changing := StateCreating
	if deployed && wasLive {
		changing = StateUpdating
	}
	runActive := last != nil && !spacelift.Terminal(last.State)
	switch {
	case stackState == spacelift.StackDeleting,
		last != nil && last.Type == spacelift.RunDestroy && runActive,
		pv != nil && (pv.State == previewDestroying || pv.State == previewDestroyed):
		return StateDestroying
	case pv != nil && (pv.State == previewBuilding || pv.State == previewRendering || pv.State == previewDeploying),
		runActive:
		return changing
	case pv != nil && pv.State == previewFailed,
		last != nil && last.State == spacelift.StateFailed:
		return StateFailed
	case pv != nil && pv.State == previewLive && deployed:
		return StateLive
	case pv == nil && deployed && last != nil:
		return StateLive
	}
	return changing
}

func detail(pv *Preview, stackState string, last *spacelift.Run, deployed bool) string {
	var parts []string
	if pv != nil {
		parts = append(parts, "preview "+pv.State)
	}
	if stackState != "" {
		parts = append(parts, "stack "+stackState)
	}
	if last != nil {
		parts = append(parts, "last run "+last.ID+" "+last.State)
	}
	if deployed {
		parts = append(parts, "deployed")
	} else {
		parts = append(parts, "not deployed")
	}
	return strings.Join(parts, ", ")
}

func label(labels []string, prefix string) string {
	for _, l := range labels {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			return v
		}
	}
	return ""
}

var funcs = template.FuncMap{
	"short": func(s string) string {
		if len(s) > 7 {
			return s[:7]
		}
		return s
	},
	"clock": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("15:04:05")
	},
	"iso": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"since":    func(now, t time.Time) string { return humanDuration(now.Sub(t)) },
	"until":    func(now, t time.Time) string { return humanDuration(t.Sub(now)) },
	"expired":  func(now, t time.Time) bool { return !t.IsZero() && !t.After(now) },
	"duration": func(a, b time.Time) string { return humanDuration(b.Sub(a)) },
	"lower":    strings.ToLower,
	"runs": func(stack string, runs []RunView) runsOf {
		return runsOf{Stack: stack, Runs: runs}
	},
	"runState": runStateClass,
	"elapsed": func(r spacelift.Run) string {
		if len(r.History) < 2 {
			return ""
		}
		return humanDuration(r.History[len(r.History)-1].At.Sub(r.History[0].At))
	},
}

// runsOf is the argument of the "runs" template.
type runsOf struct {
	Stack string
	Runs  []RunView
}

// humanDuration is coarse on purpose: the page re-renders every second and
// only sends what changed, so a finer age would resend every row.
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d d %d h", int(d.Hours())/24, int(d.Hours())%24)
}

func runStateClass(state string) string {
	switch {
	case state == spacelift.StateFinished:
		return "ok"
	case state == spacelift.StateFailed || state == spacelift.StateStopped || state == spacelift.StateCanceled:
		return "bad"
	case spacelift.Terminal(state):
		return "quiet"
	}
	return "busy"
}

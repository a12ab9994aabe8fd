package dashboard

import (
	"context"
	"fmt"
	"html/template"
	"sort"
	"strconv"
	"strings"
	"time"

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
	StackID     string // the service stack's ID ("" while it has none)
	// Group is the environment's stacks, upstreams first: the service
	// stack alone, or e.g. its data stack and then the service stack.
	Group []GroupStack
}

// GroupStack is one stack of an environment's group with its latest run.
type GroupStack struct {
	ID    string
	Role  string // spacelift.RoleService, "data", ...
	State string // the stack's state
	// DependsOn names the stacks it depends on (IDs); DependsOnNames the
	// same by role when they are in the group.
	DependsOn      []string
	DependsOnNames []string
	Last           *spacelift.Run // the latest run; nil before the first
	// WaitingOn is the upstream stack (ID, and its name in the group)
	// with a tracked run queued or under way that the latest run, a queued
	// tracked one, waits for, as the engine makes it wait.
	WaitingOn     string
	WaitingOnName string
}

// RunText is the latest run's state and type ("FINISHED tracked"), or
// queued-waiting-on-<upstream> while its upstream runs.
func (g GroupStack) RunText() string {
	switch {
	case g.Last == nil:
		return "no run yet"
	case g.WaitingOn != "":
		return "queued-waiting-on-" + g.WaitingOnName
	}
	return g.Last.State + " " + strings.ToLower(g.Last.Type)
}

// RunState is the latest run's state, "NONE" before the first run.
func (g GroupStack) RunState() string {
	if g.Last == nil {
		return spacelift.StackNone
	}
	return g.Last.State
}

// RunClass is the badge class of RunText.
func (g GroupStack) RunClass() string {
	if g.Last == nil || g.WaitingOn != "" {
		return "quiet"
	}
	return runStateClass(g.Last.State)
}

// Grouped reports whether the row shows its stacks: environments of more
// than one stack, or whose stack depends on another; a one-stack
// environment looks as it did before groups.
func (r EnvRow) Grouped() bool {
	return len(r.Group) > 1 || len(r.Group) == 1 && (r.Group[0].Role != spacelift.RoleService || len(r.Group[0].DependsOn) > 0)
}

// Edges are the group's dependencies, upstream first: "data → service".
func (r EnvRow) Edges() []string {
	var out []string
	for _, g := range r.Group {
		for _, up := range g.DependsOnNames {
			out = append(out, up+" → "+g.Role)
		}
	}
	return out
}

// StackView is a stack with its latest runs.
type StackView struct {
	spacelift.Stack
	Runs []RunView
	// Grouped is set for a stack of a multi-stack environment (its
	// heading names its role); Upstreams are the stacks it depends on.
	Grouped   bool
	Upstreams []Upstream
}

// Upstream is one stack a stack depends on, with the references that set
// its inputs from the upstream's outputs ("bucket → TF_VAR_bucket").
type Upstream struct {
	StackID    string
	References []string
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
	v := View{Now: d.now().UTC(), SandboxURL: d.src.DataPlane.URL()}
	previews, err := d.src.Previews(ctx)
	if err != nil {
		v.addErr("previews", err)
	}
	stacks, err := d.src.Engine.Stacks(ctx)
	if err != nil {
		v.addErr("stacks", err)
	}
	deps, err := d.src.Engine.Dependencies(ctx)
	if err != nil {
		v.addErr("stack dependencies", err)
	}
	deployed, err := d.src.DataPlane.Deployed(ctx) // environment ID -> version it serves
	if err != nil {
		v.addErr("deployed environments", err)
	}

	refs := map[[2]string][]string{} // {stack, upstream} -> "output → input"
	for _, dep := range deps {
		key := [2]string{dep.StackID, dep.DependsOn}
		refs[key] = []string{}
		for _, r := range dep.References {
			refs[key] = append(refs[key], r.OutputName+" → "+r.InputName)
		}
	}
	perEnv := map[string]int{}
	for _, s := range stacks {
		if s.EnvironmentID != "" {
			perEnv[s.EnvironmentID]++
		}
	}
	known := map[string]bool{}
	for _, s := range stacks {
		sv := StackView{Stack: s, Grouped: s.EnvironmentID != "" &&
			(perEnv[s.EnvironmentID] > 1 || len(s.DependsOn) > 0 || (s.Role != "" && s.Role != spacelift.RoleService))}
		for _, up := range s.DependsOn {
			sv.Upstreams = append(sv.Upstreams, Upstream{StackID: up, References: refs[[2]string{s.ID, up}]})
		}
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
	sortStacks(v.Stacks)
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
	v.Environments = environments(previews, v.Stacks, deployed, d.src.DataPlane.EnvironmentURL, d.src.Service)
	return v
}

// sortStacks puts the stacks without an environment (the manager) first,
// then each environment's group by creation, upstreams first in a group.
func sortStacks(stacks []StackView) {
	created := map[string]time.Time{} // environment ID -> its first stack's creation
	for _, s := range stacks {
		if id := s.EnvironmentID; id != "" {
			if t, ok := created[id]; !ok || s.CreatedAt.Before(t) {
				created[id] = s.CreatedAt
			}
		}
	}
	depth := depths(stacks)
	sort.SliceStable(stacks, func(i, j int) bool {
		a, b := stacks[i], stacks[j]
		if (a.EnvironmentID == "") != (b.EnvironmentID == "") {
			return a.EnvironmentID == ""
		}
		if a.EnvironmentID == "" || a.EnvironmentID == b.EnvironmentID {
			if depth[a.ID] != depth[b.ID] {
				return depth[a.ID] < depth[b.ID]
			}
			return a.CreatedAt.Before(b.CreatedAt)
		}
		ca, cb := created[a.EnvironmentID], created[b.EnvironmentID]
		if !ca.Equal(cb) {
			return ca.Before(cb)
		}
		return a.EnvironmentID < b.EnvironmentID
	})
}

// depths ranks each environment stack within its group: 0 for a stack
// that depends on none of its group, one more than its deepest upstream
// otherwise, so upstreams come first.
func depths(stacks []StackView) map[string]int {
	env := map[string]string{}
	ups := map[string][]string{}
	for _, s := range stacks {
		env[s.ID] = s.EnvironmentID
		ups[s.ID] = s.DependsOn
	}
	out := map[string]int{}
	var depth func(id string, seen map[string]bool) int
	depth = func(id string, seen map[string]bool) int {
		if d, ok := out[id]; ok {
			return d
		}
		if seen[id] { // the engine refuses cycles; never loop on one
			return 0
		}
		seen[id] = true
		d := 0
		for _, up := range ups[id] {
			if e, ok := env[up]; ok && e == env[id] && e != "" {
				d = max(d, depth(up, seen)+1)
			}
		}
		out[id] = d
		return d
	}
	for _, s := range stacks {
		depth(s.ID, map[string]bool{})
	}
	return out
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

// environments joins the PR previews with the environments' stacks: a PR
// whose stacks do not exist yet is creating; stacks without a preview (an
// environment file written by hand) still show. An environment's stacks
// are one row: the service stack gives its URL and version, and every
// stack of the group its state.
func environments(previews []Preview, stacks []StackView, deployed map[string]string, urlOf func(id, service string) string, defaultService string) []EnvRow {
	byEnv := map[string][]*StackView{}
	byID := map[string]*StackView{}
	for i := range stacks {
		byID[stacks[i].ID] = &stacks[i]
		if id := stacks[i].EnvironmentID; id != "" {
			byEnv[id] = append(byEnv[id], &stacks[i])
		}
	}
	depth := depths(stacks)
	for _, g := range byEnv {
		sort.SliceStable(g, func(i, j int) bool {
			if depth[g[i].ID] != depth[g[j].ID] {
				return depth[g[i].ID] < depth[g[j].ID]
			}
			return g[i].ID < g[j].ID
		})
	}
	var rows []EnvRow
	seen := map[string]bool{}
	for i := range previews {
		pv := &previews[i]
		group := byEnv[pv.EnvironmentID]
		if pv.EnvironmentID == "" || (pv.State == previewDestroyed && len(group) == 0) {
			continue
		}
		seen[pv.EnvironmentID] = true
		v, ok := deployed[pv.EnvironmentID]
		rows = append(rows, envRow(pv, group, byID, ok, v, urlOf, defaultService))
	}
	for id, group := range byEnv {
		if !seen[id] {
			v, ok := deployed[id]
			rows = append(rows, envRow(nil, group, byID, ok, v, urlOf, defaultService))
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

func roleOf(st *StackView) string {
	if st.Role == "" {
		return spacelift.RoleService
	}
	return st.Role
}

// groupStacks turns an environment's stacks (upstreams first) into the
// row's group: each with its latest run, and whether that run waits on an
// upstream's.
func groupStacks(group []*StackView, byID map[string]*StackView) []GroupStack {
	names := map[string]string{}
	for _, st := range group {
		names[st.ID] = roleOf(st)
	}
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}
	var out []GroupStack
	for _, st := range group {
		g := GroupStack{ID: st.ID, Role: roleOf(st), State: st.State, DependsOn: st.DependsOn}
		for _, up := range st.DependsOn {
			g.DependsOnNames = append(g.DependsOnNames, name(up))
		}
		if len(st.Runs) > 0 {
			g.Last = &st.Runs[0].Run
		}
		if g.Last != nil && g.Last.Type == spacelift.RunTracked && g.Last.State == spacelift.StateQueued {
			for _, up := range st.DependsOn {
				if u := byID[up]; u != nil && trackedUnderWay(u.Runs) {
					g.WaitingOn, g.WaitingOnName = up, name(up)
					break
				}
			}
		}
		out = append(out, g)
	}
	return out
}

// trackedUnderWay reports whether a tracked run is queued or under way:
// what a dependent's tracked run waits for.
func trackedUnderWay(runs []RunView) bool {
	for _, r := range runs {
		if r.Type == spacelift.RunTracked && !spacelift.Terminal(r.State) {
			return true
		}
	}
	return false
}

func envRow(pv *Preview, group []*StackView, byID map[string]*StackView, deployed bool, deployedVersion string, urlOf func(id, service string) string, defaultService string) EnvRow {
	row := EnvRow{Service: defaultService, Group: groupStacks(group, byID)}
	// The service stack serves the URL: its version and runs say what the
	// URL serves. Another stack of the group (the data stack, while the
	// service stack is already gone) still gives the PR and expiry.
	var svc, st *StackView
	for _, s := range group {
		if roleOf(s) == spacelift.RoleService && svc == nil {
			svc = s
		}
	}
	st = svc
	if st == nil && len(group) > 0 {
		st = group[0]
	}
	if st != nil {
		row.ID = st.EnvironmentID
		if svc != nil {
			row.StackID = svc.ID
		}
		if st.Service != "" {
			row.Service = st.Service
		}
		row.InfraBranch = st.Branch
		row.CodeVersion = st.Env["TF_VAR_code_version"]
		for _, s := range group {
			if row.Created.IsZero() || s.CreatedAt.Before(row.Created) {
				row.Created = s.CreatedAt
			}
		}
		owner, repo, number := label(st.Labels, labelOwner), label(st.Labels, labelRepo), label(st.Labels, labelNumber)
		if owner != "" && number != "" {
			row.PR = owner + "/" + repo + "#" + number
		} else if name := label(st.Labels, labelName); name != "" {
			row.PR = "on demand: " + name
		}
		if t, err := time.Parse(time.RFC3339, label(st.Labels, labelExpires)); err == nil {
			row.Expires = t.UTC()
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
	finished := 0
	if st != nil {
		for _, r := range st.Runs {
			if r.Type == spacelift.RunTracked && r.State == spacelift.StateFinished {
				finished++
			}
		}
	}
	// It served an earlier version when two runs of the service stack
	// applied, or one did and what it serves is not what the preview is
	// deploying now; the first deploy stays "creating" until the CI says
	// live.
	servesWanted := pv != nil && deployedVersion == pv.Version
	wasLive := deployed && (finished >= 2 || (finished == 1 && !servesWanted))
	row.State = DeriveState(pv, row.Group, deployed, wasLive)
	row.Detail = detail(pv, row.Group, deployed)
	return row
}

// DeriveState turns the preview's CI state, the state and latest run of
// each stack of the environment's group, whether the data plane serves the
// environment and whether it served an earlier version into the one word
// the page shows. Any stack of the group counts: destroying while any is
// being deleted or destroyed, creating or updating while any runs (a
// dependent's queued run included), failed if any latest run failed. Work
// under way wins over an earlier failure, so a push that fixes a broken
// environment shows as updating, not failed; the first deploy is creating
// until it is live, even once the function answers.
func DeriveState(pv *Preview, group []GroupStack, deployed, wasLive bool) string {
	changing := StateCreating
	if deployed && wasLive {
		changing = StateUpdating
	}
	var deleting, running, failed, ran bool
	for _, g := range group {
		runActive := g.Last != nil && !spacelift.Terminal(g.Last.State)
		deleting = deleting || g.State == spacelift.StackDeleting || (runActive && g.Last.Type == spacelift.RunDestroy)
		running = running || runActive
		failed = failed || (g.Last != nil && g.Last.State == spacelift.StateFailed)
		ran = ran || g.Last != nil
	}
	switch {
	case deleting,
		pv != nil && (pv.State == previewDestroying || pv.State == previewDestroyed):
		return StateDestroying
	case pv != nil && (pv.State == previewBuilding || pv.State == previewRendering || pv.State == previewDeploying),
		running:
		return changing
	case pv != nil && pv.State == previewFailed, failed:
		return StateFailed
	case pv != nil && pv.State == previewLive && deployed:
		return StateLive
	case pv == nil && deployed && ran:
		return StateLive
	}
	return changing
}

// detail lists the states DeriveState read, for the state's title; a
// group's stacks are named by role.
func detail(pv *Preview, group []GroupStack, deployed bool) string {
	var parts []string
	if pv != nil {
		parts = append(parts, "preview "+pv.State)
	}
	named := len(group) > 1
	for _, g := range group {
		prefix := ""
		if named {
			prefix = g.Role + " "
		}
		if g.State != "" {
			parts = append(parts, prefix+"stack "+g.State)
		}
		if g.Last != nil {
			parts = append(parts, prefix+"last run "+g.Last.ID+" "+g.Last.State)
		}
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
	"join":     strings.Join,
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

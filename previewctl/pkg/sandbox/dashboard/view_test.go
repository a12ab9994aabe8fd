package dashboard

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/sandbox/spacelift"
)

// TestDeriveState: a one-stack environment (its service stack alone).
func TestDeriveState(t *testing.T) {
	run := func(typ, state string) *spacelift.Run { return &spacelift.Run{ID: "r1", Type: typ, State: state} }
	pv := func(state string) *Preview { return &Preview{EnvironmentID: "abcd1234", State: state} }
	tests := []struct {
		name       string
		preview    *Preview
		stackState string
		last       *spacelift.Run
		deployed   bool
		wasLive    bool
		want       string
	}{
		{"PR building, nothing deployed yet", pv("building"), "", nil, false, false, StateCreating},
		{"file rendered, stack not created yet", pv("rendering"), "", nil, false, false, StateCreating},
		{"first run under way", pv("deploying"), spacelift.StackActive, run(spacelift.RunTracked, spacelift.StateApplying), false, false, StateCreating},
		{"live", pv("live"), spacelift.StackActive, run(spacelift.RunTracked, spacelift.StateFinished), true, true, StateLive},
		{"push to a live PR builds", pv("building"), spacelift.StackActive, run(spacelift.RunTracked, spacelift.StateFinished), true, true, StateUpdating},
		{"redeploy queued by the trigger policy", pv("live"), spacelift.StackActive, run(spacelift.RunTracked, spacelift.StateQueued), true, true, StateUpdating},
		{"CI says failed", pv("failed"), spacelift.StackActive, run(spacelift.RunTracked, spacelift.StateFinished), true, true, StateFailed},
		{"last run failed", pv("deploying"), spacelift.StackActive, run(spacelift.RunTracked, spacelift.StateFailed), true, true, StateUpdating},
		{"last run failed, CI gave up", pv("failed"), spacelift.StackActive, run(spacelift.RunTracked, spacelift.StateFailed), false, false, StateFailed},
		{"run failed, no preview", nil, spacelift.StackActive, run(spacelift.RunTracked, spacelift.StateFailed), true, true, StateFailed},
		{"skipped run is not a failure", pv("live"), spacelift.StackActive, run(spacelift.RunTracked, spacelift.StateSkipped), true, true, StateLive},
		{"PR closed", pv("destroying"), spacelift.StackActive, run(spacelift.RunTracked, spacelift.StateFinished), true, true, StateDestroying},
		{"destructor running", pv("live"), spacelift.StackActive, run(spacelift.RunDestroy, spacelift.StateDestroying), true, true, StateDestroying},
		{"stack deleting", nil, spacelift.StackDeleting, run(spacelift.RunDestroy, spacelift.StateFinished), false, true, StateDestroying},
		{"destroyed preview whose stack lingers", pv("destroyed"), spacelift.StackActive, nil, true, true, StateDestroying},
		{"hand-written environment file, deployed", nil, spacelift.StackActive, run(spacelift.RunTracked, spacelift.StateFinished), true, true, StateLive},
		{"hand-written environment file, no run yet", nil, spacelift.StackActive, nil, false, false, StateCreating},
		{"first run applying, function already answers", pv("deploying"), spacelift.StackActive, run(spacelift.RunTracked, spacelift.StateApplying), true, false, StateCreating},
		{"live preview whose function is gone", pv("live"), spacelift.StackActive, run(spacelift.RunTracked, spacelift.StateFinished), false, true, StateCreating},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			group := []GroupStack{{ID: "hello-service-abcd1234", Role: spacelift.RoleService, State: tc.stackState, Last: tc.last}}
			if got := DeriveState(tc.preview, group, tc.deployed, tc.wasLive); got != tc.want {
				t.Fatalf("DeriveState = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestEnvironmentsJoin: previews and stacks meet on the environment ID;
// labels give the PR and expiry when the preview is missing.
func TestEnvironmentsJoin(t *testing.T) {
	created := time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)
	stack := StackView{Stack: spacelift.Stack{ID: "hello-service-aaaa0001", EnvironmentID: "aaaa0001", Service: "hello-service",
		Branch: "infra-next", State: spacelift.StackActive, CreatedAt: created,
		Env:    map[string]string{"TF_VAR_code_version": "0123456789abcdef0123456789abcdef01234567"},
		Labels: []string{"preview-pr-owner:acme", "preview-pr-repository:shop", "preview-pr-number:7", "preview-expires-at:2026-12-05T06:00:00Z"}},
		Runs: []RunView{{Run: spacelift.Run{ID: "r9", Type: spacelift.RunTracked, State: spacelift.StateFinished}}}}
	orphan := StackView{Stack: spacelift.Stack{ID: "hello-service-bbbb0002", EnvironmentID: "bbbb0002", Service: "hello-service",
		Branch: "main", State: spacelift.StackActive, CreatedAt: created.Add(time.Minute)}}
	ondemand := StackView{Stack: spacelift.Stack{ID: "hello-service-o1234567", EnvironmentID: "o1234567", Service: "hello-service",
		Branch: "main", State: spacelift.StackActive, CreatedAt: created.Add(2 * time.Minute),
		Labels: []string{"preview-kind:ondemand", "preview-name:qa-checkout"}}}
	manager := StackView{Stack: spacelift.Stack{ID: "manager-hello-service", Administrative: true}}
	previews := []Preview{
		{Owner: "acme", Repo: "shop", Number: 7, EnvironmentID: "aaaa0001", State: "live", URL: "http://aaaa0001.hello-service.localhost:1/"},
		{Owner: "acme", Repo: "shop", Number: 8, EnvironmentID: "cccc0003", State: "building", Version: "latest"},
		{Owner: "acme", Repo: "shop", Number: 9, EnvironmentID: "dddd0004", State: "destroyed"},
	}
	urlOf := func(id, service string) string { return "http://" + id + "." + service + ".localhost:1/" }
	rows := environments(previews, []StackView{manager, stack, orphan, ondemand}, map[string]string{"aaaa0001": "0123456789abcdef0123456789abcdef01234567"}, urlOf, "hello-service")

	want := []EnvRow{
		// Newest first: a row without a stack yet, then by stack creation.
		{ID: "cccc0003", Service: "hello-service", PR: "acme/shop#8", CodeVersion: "latest", State: StateCreating, URL: urlOf("cccc0003", "hello-service")},
		{ID: "o1234567", Service: "hello-service", PR: "on demand: qa-checkout", InfraBranch: "main", State: StateCreating, URL: urlOf("o1234567", "hello-service")},
		{ID: "bbbb0002", Service: "hello-service", InfraBranch: "main", State: StateCreating, URL: urlOf("bbbb0002", "hello-service")},
		{ID: "aaaa0001", Service: "hello-service", PR: "acme/shop#7", CodeVersion: "0123456789abcdef0123456789abcdef01234567",
			InfraBranch: "infra-next", State: StateLive, URL: "http://aaaa0001.hello-service.localhost:1/"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		g := rows[i]
		if g.ID != w.ID || g.Service != w.Service || g.PR != w.PR || g.CodeVersion != w.CodeVersion ||
			g.InfraBranch != w.InfraBranch || g.State != w.State || g.URL != w.URL {
			t.Errorf("row %d = %+v\nwant %+v", i, g, w)
		}
	}
	if !rows[3].Expires.Equal(time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)) || !rows[3].Created.Equal(created) {
		t.Errorf("row aaaa0001 created %v expires %v, want %v and the label's time", rows[3].Created, rows[3].Expires, created)
	}
}

// TestFragmentEscapes: branch names, run causes, logs and policy summaries
// come from people; the page shows them as text, never as markup.
func TestFragmentEscapes(t *testing.T) {
	d := New(Source{})
	hostile := `<img src=x onerror=alert(1)>"'&`
	now := time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)
	v := View{Now: now,
		Environments: []EnvRow{{ID: "aaaa0001", Service: "hello-service", PR: "acme/shop#7", InfraBranch: hostile, State: StateLive,
			URL: "javascript:alert(1)", Created: now.Add(-90 * time.Second), Expires: now.Add(-time.Hour)}},
		Stacks: []StackView{{Stack: spacelift.Stack{ID: "s1", Branch: hostile, State: spacelift.StackActive},
			Runs: []RunView{{Run: spacelift.Run{ID: "r1", State: spacelift.StateFinished, Cause: hostile, TriggeredBy: "r0"}, LogLines: 1}}}},
		Evaluations: []spacelift.PolicyEvaluation{{Policy: "push", StackID: "s1", Summary: hostile, Decision: hostile}},
	}
	var buf bytes.Buffer
	if err := d.tmpl.ExecuteTemplate(&buf, "fragment", v); err != nil {
		t.Fatal(err)
	}
	if err := d.tmpl.ExecuteTemplate(&buf, "log", LogView{RunID: "r1", Lines: []spacelift.LogLine{{At: now, Line: hostile}}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"<img", `href="javascript:`} {
		if strings.Contains(out, bad) {
			t.Errorf("fragment holds %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;img src=x onerror=alert(1)&gt;", `href="#run-r0"`, "expired 1 h 0 min ago", ">1 min<",
		`data-log-url="/dashboard/runs/r1/log"`, "<summary>1 lines</summary>", `<span class="ts">06:00:00</span> &lt;img`} {
		if !strings.Contains(out, want) {
			t.Errorf("fragment lacks %q", want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{250 * time.Millisecond, "250 ms"},
		{59 * time.Second, "59 s"},
		{61 * time.Second, "1 min"},
		{3*time.Hour + 5*time.Minute, "3 h 5 min"},
		{-90 * time.Minute, "1 h 30 min"},
		{7*24*time.Hour + 3*time.Hour, "7 d 3 h"},
	}
	for _, tc := range tests {
		if got := humanDuration(tc.d); got != tc.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// TestCreatingOrUpdating: "updating" means a person could use an earlier
// version meanwhile; the first deploy is "creating" until the CI says live,
// even after its run finished and the function answers.
func TestCreatingOrUpdating(t *testing.T) {
	oldV, newV := strings.Repeat("a", 40), strings.Repeat("b", 40)
	finished := func(id string) RunView {
		return RunView{Run: spacelift.Run{ID: id, Type: spacelift.RunTracked, State: spacelift.StateFinished}}
	}
	tests := []struct {
		name     string
		pvState  string
		pvVer    string
		runs     []RunView // newest first
		deployed string    // version served; "" for none
		want     string
	}{
		{"first run finished, CI still checking", "deploying", newV, []RunView{finished("r1")}, newV, StateCreating},
		{"first run finished on latest", "deploying", "latest", []RunView{finished("r1")}, "latest", StateCreating},
		{"push builds while the old version serves", "building", newV, []RunView{finished("r1")}, oldV, StateUpdating},
		{"redeploy finished, CI still checking", "deploying", newV, []RunView{finished("r2"), finished("r1")}, newV, StateUpdating},
		{"live", "live", newV, []RunView{finished("r1")}, newV, StateLive},
		{"nothing deployed yet", "building", newV, nil, "", StateCreating},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := StackView{Stack: spacelift.Stack{ID: "hello-service-aaaa0001", EnvironmentID: "aaaa0001", State: spacelift.StackActive}, Runs: tc.runs}
			deployed := map[string]string{}
			if tc.deployed != "" {
				deployed["aaaa0001"] = tc.deployed
			}
			rows := environments([]Preview{{Owner: "acme", Repo: "shop", Number: 1, EnvironmentID: "aaaa0001", State: tc.pvState, Version: tc.pvVer}},
				[]StackView{st}, deployed, func(id, service string) string { return "" }, "hello-service")
			if len(rows) != 1 || rows[0].State != tc.want {
				t.Fatalf("rows %+v, want one %s", rows, tc.want)
			}
		})
	}
}

package dashboard

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/internal/sandbox/slapi"
	"preview-environments/previewctl/pkg/sandbox/spacelift"
)

// TestDeriveStateGroup: every stack of an environment's group counts;
// work under way wins over a failure, deletion over everything.
func TestDeriveStateGroup(t *testing.T) {
	run := func(typ, state string) *spacelift.Run { return &spacelift.Run{ID: "r", Type: typ, State: state} }
	pv := func(state string) *Preview { return &Preview{EnvironmentID: "abcd1234", State: state} }
	group := func(data, service *spacelift.Run) []GroupStack {
		return []GroupStack{
			{ID: "hello-service-abcd1234-data", Role: "data", State: spacelift.StackActive, Last: data},
			{ID: "hello-service-abcd1234", Role: spacelift.RoleService, State: spacelift.StackActive,
				DependsOn: []string{"hello-service-abcd1234-data"}, Last: service},
		}
	}
	tr, ds := spacelift.RunTracked, spacelift.RunDestroy
	tests := []struct {
		name     string
		preview  *Preview
		group    []GroupStack
		deployed bool
		wasLive  bool
		want     string
	}{
		{"first deploy: data applying, service waits", pv("deploying"), group(run(tr, spacelift.StateApplying), run(tr, spacelift.StateQueued)), false, false, StateCreating},
		{"first deploy: data done, service applying", pv("deploying"), group(run(tr, spacelift.StateFinished), run(tr, spacelift.StateApplying)), true, false, StateCreating},
		{"push: data applying while the service serves", pv("live"), group(run(tr, spacelift.StatePlanning), run(tr, spacelift.StateFinished)), true, true, StateUpdating},
		{"push: data done, service queued", pv("live"), group(run(tr, spacelift.StateFinished), run(tr, spacelift.StateQueued)), true, true, StateUpdating},
		{"both finished", pv("live"), group(run(tr, spacelift.StateFinished), run(tr, spacelift.StateFinished)), true, true, StateLive},
		{"data failed, the service's run canceled", pv("live"), group(run(tr, spacelift.StateFailed), run(tr, spacelift.StateCanceled)), true, true, StateFailed},
		{"data failed before the service ever ran, CI gave up", pv("failed"), group(run(tr, spacelift.StateFailed), nil), false, false, StateFailed},
		{"data failed, no preview", nil, group(run(tr, spacelift.StateFailed), run(tr, spacelift.StateCanceled)), false, false, StateFailed},
		{"data failed, CI still waiting (work under way, as for one stack)", pv("deploying"), group(run(tr, spacelift.StateFailed), run(tr, spacelift.StateCanceled)), false, false, StateCreating},
		{"service failed, data finished", pv("live"), group(run(tr, spacelift.StateFinished), run(tr, spacelift.StateFailed)), true, true, StateFailed},
		{"a fixing run under way wins over data's failure", pv("live"), group(run(tr, spacelift.StateFailed), run(tr, spacelift.StateApplying)), true, true, StateUpdating},
		{"service destroying first", pv("live"), group(run(tr, spacelift.StateFinished), run(ds, spacelift.StateDestroying)), true, true, StateDestroying},
		{"data destroying after the service", nil, group(run(ds, spacelift.StateDestroying), run(ds, spacelift.StateFinished)), false, true, StateDestroying},
		{"service stack being deleted, data failed", nil, []GroupStack{
			{ID: "hello-service-abcd1234-data", Role: "data", State: spacelift.StackActive, Last: run(tr, spacelift.StateFailed)},
			{ID: "hello-service-abcd1234", Role: spacelift.RoleService, State: spacelift.StackDeleting, Last: run(ds, spacelift.StateFinished)},
		}, false, true, StateDestroying},
		{"only the data stack left, being deleted", nil, []GroupStack{
			{ID: "hello-service-abcd1234-data", Role: "data", State: spacelift.StackDeleting, Last: run(ds, spacelift.StateFinished)},
		}, false, true, StateDestroying},
		{"hand-written file, both finished", nil, group(run(tr, spacelift.StateFinished), run(tr, spacelift.StateFinished)), true, true, StateLive},
		{"no runs yet in either", pv("deploying"), group(nil, nil), false, false, StateCreating},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DeriveState(tc.preview, tc.group, tc.deployed, tc.wasLive); got != tc.want {
				t.Fatalf("DeriveState = %q, want %q", got, tc.want)
			}
		})
	}
}

// runs builds a stack's runs, newest first, from "TYPE STATE" pairs.
func runs(stackID string, specs ...string) []RunView {
	var out []RunView
	for i, s := range specs {
		typ, state, _ := strings.Cut(s, " ")
		out = append(out, RunView{Run: spacelift.Run{ID: stackID + "-r" + string(rune('0'+len(specs)-i)), StackID: stackID, Type: typ, State: state}})
	}
	return out
}

// TestEnvironmentGroups: an environment's stacks are one row: its group
// (upstreams first, with roles, the dependency and each latest run), the
// state over all of them, the URL and version of the service stack.
func TestEnvironmentGroups(t *testing.T) {
	const id = "abcd1234"
	created := time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)
	sha, older := strings.Repeat("c", 40), strings.Repeat("a", 40)
	labels := []string{"preview_environment_id:" + id, "preview-pr-owner:acme", "preview-pr-repository:shop", "preview-pr-number:7",
		"preview-expires-at:2026-12-05T06:00:00Z"}
	service := func(rs []RunView) StackView {
		return StackView{Stack: spacelift.Stack{ID: "hello-service-" + id, EnvironmentID: id, Service: "hello-service", Role: spacelift.RoleService,
			DependsOn: []string{"hello-service-" + id + "-data"}, Branch: "main", State: spacelift.StackActive, CreatedAt: created.Add(time.Millisecond),
			Env: map[string]string{"TF_VAR_code_version": sha}, Labels: append(labels, "preview-stack:service")}, Runs: rs}
	}
	data := func(rs []RunView) StackView {
		return StackView{Stack: spacelift.Stack{ID: "hello-service-" + id + "-data", EnvironmentID: id, Service: "hello-service", Role: "data",
			Branch: "main", State: spacelift.StackActive, CreatedAt: created, Env: map[string]string{},
			Labels: append(labels, "preview-stack:data")}, Runs: rs}
	}
	const (
		T = spacelift.RunTracked + " "
		D = spacelift.RunDestroy + " "
	)
	svcID, dataID := "hello-service-"+id, "hello-service-"+id+"-data"
	tests := []struct {
		name     string
		pvState  string
		pvVer    string
		stacks   []StackView // in the engine's order (by ID: service first)
		deployed string      // version served; "" for none
		want     string
		runText  []string // per group stack, upstream first
		grouped  bool
		stackID  string
	}{
		{"first deploy: data running, service queued-waiting", "deploying", sha,
			[]StackView{service(runs(svcID, T+"QUEUED")), data(runs(dataID, T+"APPLYING"))}, "",
			StateCreating, []string{"APPLYING tracked", "queued-waiting-on-data"}, true, svcID},
		{"data finished, service applying", "deploying", sha,
			[]StackView{service(runs(svcID, T+"APPLYING")), data(runs(dataID, T+"FINISHED"))}, "",
			StateCreating, []string{"FINISHED tracked", "APPLYING tracked"}, true, svcID},
		{"push: both queued, the service waits on data", "live", sha,
			[]StackView{service(runs(svcID, T+"QUEUED", T+"FINISHED")), data(runs(dataID, T+"QUEUED", T+"FINISHED"))}, older,
			StateUpdating, []string{"QUEUED tracked", "queued-waiting-on-data"}, true, svcID},
		{"service queued, data idle: not waiting", "live", sha,
			[]StackView{service(runs(svcID, T+"QUEUED", T+"FINISHED")), data(runs(dataID, T+"FINISHED"))}, older,
			StateUpdating, []string{"FINISHED tracked", "QUEUED tracked"}, true, svcID},
		{"both finished: live", "live", sha,
			[]StackView{service(runs(svcID, T+"FINISHED")), data(runs(dataID, T+"FINISHED"))}, sha,
			StateLive, []string{"FINISHED tracked", "FINISHED tracked"}, true, svcID},
		{"data failed, service canceled", "live", sha,
			[]StackView{service(runs(svcID, T+"CANCELED", T+"FINISHED")), data(runs(dataID, T+"FAILED", T+"FINISHED"))}, sha,
			StateFailed, []string{"FAILED tracked", "CANCELED tracked"}, true, svcID},
		{"service failed", "live", sha,
			[]StackView{service(runs(svcID, T+"FAILED", T+"FINISHED")), data(runs(dataID, T+"FINISHED"))}, sha,
			StateFailed, []string{"FINISHED tracked", "FAILED tracked"}, true, svcID},
		{"destroying: the service first", "destroying", sha,
			[]StackView{service(runs(svcID, D+"DESTROYING", T+"FINISHED")), data(runs(dataID, T+"FINISHED"))}, sha,
			StateDestroying, []string{"FINISHED tracked", "DESTROYING destroy"}, true, svcID},
		{"destroying: only the data stack left", "destroying", sha,
			[]StackView{data(runs(dataID, D+"PREPARING", T+"FINISHED"))}, "",
			StateDestroying, []string{"PREPARING destroy"}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			deployed := map[string]string{}
			if tc.deployed != "" {
				deployed[id] = tc.deployed
			}
			rows := environments([]Preview{{Owner: "acme", Repo: "shop", Number: 7, EnvironmentID: id, State: tc.pvState, Version: tc.pvVer}},
				tc.stacks, deployed, func(id, service string) string { return "http://" + id + "." + service + ".localhost:1/" }, "hello-service")
			if len(rows) != 1 {
				t.Fatalf("%d rows, want one: %+v", len(rows), rows)
			}
			r := rows[0]
			if r.State != tc.want {
				t.Errorf("state %q (%s), want %q", r.State, r.Detail, tc.want)
			}
			var got []string
			for _, g := range r.Group {
				got = append(got, g.RunText())
			}
			if !reflect.DeepEqual(got, tc.runText) {
				t.Errorf("run texts %q, want %q", got, tc.runText)
			}
			if r.Grouped() != tc.grouped || r.StackID != tc.stackID {
				t.Errorf("grouped %v, stack %q; want %v, %q", r.Grouped(), r.StackID, tc.grouped, tc.stackID)
			}
			if r.PR != "acme/shop#7" || r.CodeVersion != sha || r.InfraBranch != "main" || r.URL != "http://"+id+".hello-service.localhost:1/" ||
				!r.Created.Equal(created) || !r.Expires.Equal(time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)) {
				t.Errorf("row %+v: want the PR, the service stack's version, branch, URL and expiry, created with its first stack", r)
			}
			if len(r.Group) == 2 {
				if r.Group[0].ID != dataID || r.Group[1].ID != svcID {
					t.Errorf("group %s, %s: want the data stack first", r.Group[0].ID, r.Group[1].ID)
				}
				if e := r.Edges(); !reflect.DeepEqual(e, []string{"data → service"}) {
					t.Errorf("edges %q, want data → service", e)
				}
				if !strings.Contains(r.Detail, "data last run ") || !strings.Contains(r.Detail, "service last run ") {
					t.Errorf("detail %q names neither stack's run", r.Detail)
				}
			}
		})
	}
}

// TestOneStackUnchanged: an environment of its service stack alone has no
// group row and reads as before groups.
func TestOneStackUnchanged(t *testing.T) {
	st := StackView{Stack: spacelift.Stack{ID: "hello-service-aaaa0001", EnvironmentID: "aaaa0001", Service: "hello-service", Role: spacelift.RoleService,
		State: spacelift.StackActive, CreatedAt: time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)},
		Runs: runs("hello-service-aaaa0001", spacelift.RunTracked+" FINISHED")}
	rows := environments([]Preview{{Owner: "acme", Repo: "shop", Number: 1, EnvironmentID: "aaaa0001", State: "live", Version: "latest"}},
		[]StackView{st}, map[string]string{"aaaa0001": "latest"}, func(id, service string) string { return "u" }, "hello-service")
	if len(rows) != 1 {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[0]
	if r.Grouped() || len(r.Edges()) != 0 || r.State != StateLive || r.StackID != st.ID {
		t.Errorf("row %+v: want a live, ungrouped row of %s", r, st.ID)
	}
	if want := "preview live, stack ACTIVE, last run hello-service-aaaa0001-r1 FINISHED, deployed"; r.Detail != want {
		t.Errorf("detail %q, want %q", r.Detail, want)
	}
	var buf bytes.Buffer
	if err := New(Source{}).tmpl.ExecuteTemplate(&buf, "fragment", View{Environments: rows, Stacks: []StackView{st}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`class="group"`, `class="grouped"`, "group-stacks", `<span class="tag">service</span>`, "Depends on"} {
		if strings.Contains(buf.String(), bad) {
			t.Errorf("a one-stack environment renders %q", bad)
		}
	}
}

// fakeEngine and fakePlane stand in for *spacelift.Engine and the sandbox.
type fakeEngine struct {
	stacks []spacelift.Stack
	deps   []spacelift.Dependency
	runs   map[string][]spacelift.Run
}

func (f fakeEngine) Stacks(context.Context) ([]spacelift.Stack, error) { return f.stacks, nil }
func (f fakeEngine) Dependencies(context.Context) ([]spacelift.Dependency, error) {
	return f.deps, nil
}
func (f fakeEngine) Runs(_ context.Context, stackID string, limit int) ([]spacelift.Run, error) {
	if stackID == "" {
		return nil, nil
	}
	return f.runs[stackID], nil
}
func (f fakeEngine) Run(context.Context, string) (spacelift.Run, error) {
	return spacelift.Run{}, spacelift.ErrNotFound
}
func (f fakeEngine) Logs(context.Context, string) ([]spacelift.LogLine, error) { return nil, nil }
func (f fakeEngine) LogLines(context.Context, string) (int, error)             { return 3, nil }
func (f fakeEngine) Evaluations(context.Context, int) ([]spacelift.PolicyEvaluation, error) {
	return nil, nil
}
func (f fakeEngine) Subscribe() (<-chan spacelift.Event, func()) { return nil, func() {} }

var _ Engine = (*spacelift.Engine)(nil)

// TestCollectGroup reads a two-stack environment through the interfaces
// and renders it: the row's group block, the stacks in group order with
// their roles, and the dependency with its reference.
func TestCollectGroup(t *testing.T) {
	const id = "abcd1234"
	svcID, dataID := "hello-service-"+id, "hello-service-"+id+"-data"
	at := time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)
	eng := fakeEngine{
		stacks: []spacelift.Stack{
			{ID: "manager-hello-service", Administrative: true, State: spacelift.StackActive, CreatedAt: at.Add(-time.Hour)},
			{ID: svcID, EnvironmentID: id, Service: "hello-service", Role: spacelift.RoleService, DependsOn: []string{dataID},
				State: spacelift.StackActive, CreatedAt: at, Env: map[string]string{"TF_VAR_code_version": "latest"}},
			{ID: dataID, EnvironmentID: id, Service: "hello-service", Role: "data", State: spacelift.StackActive, CreatedAt: at},
		},
		deps: []spacelift.Dependency{{ID: "dep1", StackID: svcID, DependsOn: dataID,
			References: []slapi.Reference{{ReferenceSpec: slapi.ReferenceSpec{OutputName: "bucket_name", InputName: "TF_VAR_data_bucket"}}}}},
		runs: map[string][]spacelift.Run{
			svcID:  {{ID: "run-000003", StackID: svcID, Type: spacelift.RunTracked, State: spacelift.StateQueued}},
			dataID: {{ID: "run-000002", StackID: dataID, Type: spacelift.RunTracked, State: spacelift.StatePlanning}},
		},
	}
	plane := DataPlaneOf(func() string { return "http://127.0.0.1:1" },
		func(id, service string) string { return "http://" + id + "." + service + ".localhost:1/" },
		func() []struct {
			ID      string `json:"id"`
			Version string `json:"version"`
			Other   int    `json:"pool_size"`
		} {
			return nil
		})
	d := New(Source{Engine: eng, DataPlane: plane, Previews: func(context.Context) ([]Preview, error) {
		return nil, errors.New("CI down")
	}})
	v := d.collect(context.Background())
	if !reflect.DeepEqual(v.Errors, []string{"previews: CI down"}) {
		t.Errorf("errors %q, want the previews' only", v.Errors)
	}
	var order []string
	for _, s := range v.Stacks {
		order = append(order, s.ID)
	}
	if want := []string{"manager-hello-service", dataID, svcID}; !reflect.DeepEqual(order, want) {
		t.Errorf("stacks %q, want %q", order, want)
	}
	if len(v.Environments) != 1 || v.Environments[0].State != StateCreating {
		t.Fatalf("environments %+v, want one creating", v.Environments)
	}
	var buf bytes.Buffer
	if err := d.tmpl.ExecuteTemplate(&buf, "fragment", v); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`<tr id="env-` + id + `" data-env-id="` + id + `" data-state="creating" class="grouped">`,
		`<tr class="group" id="env-` + id + `-stacks" data-group-of="` + id + `">`,
		`<span class="deps"`, `>data → service</span>`,
		`<li data-stack-id="` + dataID + `" data-role="data" data-run-state="PLANNING"><span class="role">data</span> <a href="#stack-` + dataID + `"><code>` + dataID + `</code></a>: <span class="badge busy" title="run run-000002">PLANNING tracked</span></li>`,
		`<li data-stack-id="` + svcID + `" data-role="service" data-run-state="QUEUED" data-waiting-on="` + dataID + `"><span class="role">service</span>`,
		`<span class="needs">(depends on data)</span>: <span class="badge quiet" title="run run-000003">queued-waiting-on-data</span>`,
		`<code>` + svcID + `</code> <span class="badge active">ACTIVE</span> <span class="tag">service</span></h3>`,
		`Depends on <a href="#stack-` + dataID + `"><code>` + dataID + `</code></a> (bucket_name → TF_VAR_data_bucket)`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("fragment lacks %s", want)
		}
	}
	if strings.Contains(out, `<code>manager-hello-service</code> <span class="badge active">ACTIVE</span> <span class="tag">manager</span> <span class="tag">`) {
		t.Error("the manager got a role tag")
	}
}

// TestDataPlaneOf reads the versions of what the sandbox serves from its
// environments' JSON shape.
func TestDataPlaneOf(t *testing.T) {
	type env struct {
		ID      string `json:"id"`
		Service string `json:"service"`
		Version string `json:"version"`
	}
	p := DataPlaneOf(func() string { return "base" }, func(id, service string) string { return id + "/" + service },
		func() []env { return []env{{"a", "s", "v1"}, {"b", "s", "latest"}} })
	got, err := p.Deployed(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"a": "v1", "b": "latest"}; !reflect.DeepEqual(got, want) || p.URL() != "base" || p.EnvironmentURL("a", "s") != "a/s" {
		t.Errorf("deployed %v, URL %q, environment URL %q", got, p.URL(), p.EnvironmentURL("a", "s"))
	}
}

package dashboard

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/sandbox/spacelift"
)

// BenchmarkRenderFragment is what watching costs the sandbox per check
// (once a second and after engine bursts, shared by every open tab) with a
// busy sandbox: 50 environments, each stack with 8 runs, 25 evaluations
// (logs are fetched only when opened, so they are not part of it). It reports the fragment's size, which is also what each
// change sends to each tab.
func BenchmarkRenderFragment(b *testing.B) {
	d := New(Source{})
	now := time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)
	v := View{Now: now}
	for i := range 50 {
		id := fmt.Sprintf("%08x", i)
		v.Environments = append(v.Environments, EnvRow{ID: id, Service: "hello-service", PR: fmt.Sprintf("acme/shop#%d", i),
			CodeVersion: strings.Repeat("a", 40), InfraBranch: "main", State: StateLive,
			URL: "http://" + id + ".hello-service.localhost:8080/", Created: now.Add(-time.Hour), Expires: now.Add(72 * time.Hour)})
		sv := StackView{Stack: spacelift.Stack{ID: "hello-service-" + id, EnvironmentID: id, Branch: "main", ProjectRoot: "infra",
			State: spacelift.StackActive, Policies: []string{"push"}}}
		for r := range runsPerStack {
			run := spacelift.Run{ID: fmt.Sprintf("run-%06d", i*10+r), Type: spacelift.RunTracked, State: spacelift.StateFinished,
				Commit: strings.Repeat("b", 40), Cause: "trigger policy after run-000001 on manager-hello-service changed its variables", TriggeredBy: "run-000001"}
			for _, st := range []string{"QUEUED", "PREPARING", "INITIALIZING", "PLANNING", "APPLYING", "FINISHED"} {
				run.History = append(run.History, spacelift.StateChange{State: st, At: now})
			}
			sv.Runs = append(sv.Runs, RunView{Run: run, LogLines: 40})
		}
		v.Stacks = append(v.Stacks, sv)
	}
	for i := range evaluations {
		v.Evaluations = append(v.Evaluations, spacelift.PolicyEvaluation{ID: int64(i), At: now, Policy: "trigger", StackID: "manager-hello-service",
			RunID: "run-000001", Summary: "finished tracked run run-000001: 4 change(s)", Decision: "trigger hello-service-00000001"})
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := d.tmpl.ExecuteTemplate(&buf, "fragment", v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/fragment")
}

package spacelift

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"preview-environments/previewctl/pkg/envfile"
)

// newTwoStackHarness runs the manager with the data stack on, as the
// product does: every environment is infra/data (a bucket holding the
// greeting) and infra/ (the service), joined by a stack dependency.
func newTwoStackHarness(t *testing.T) *harness {
	env := testManagerEnv()
	env["TF_VAR_data_stack"] = "true"
	h := &harness{t: t, repo: newGitRepo(t), dataDir: t.TempDir(), managerEnv: env}
	h.start()
	return h
}

// ranAfter fails unless the service run started only once the data run
// had finished.
func ranAfter(t *testing.T, h *harness, data, service Run) {
	t.Helper()
	done, started := data.Entered(StateFinished), service.Entered(StatePreparing)
	if data.State != StateFinished || service.State != StateFinished || done.IsZero() || started.IsZero() || started.Before(done) {
		t.Fatalf("want the data run finished before the service run started:\ndata %s %s finished %v\nservice %s %s started %v\n%s",
			data.ID, data.State, done, service.ID, service.State, started, h.dump())
	}
}

// buckets lists the S3 stand-in's buckets whose name starts with prefix,
// through the S3 API as any client sees them.
func buckets(t *testing.T, h *harness, prefix string) []string {
	t.Helper()
	out, err := h.s3().ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range out.Buckets {
		if strings.HasPrefix(aws.ToString(b.Name), prefix) {
			names = append(names, aws.ToString(b.Name))
		}
	}
	return names
}

func TestTwoStackEnvironment(t *testing.T) {
	t.Parallel()
	h := newTwoStackHarness(t)
	h.upload(sha1, sha2)
	path, file := envFile(t, "acme", "shop", 61, sha1, "main")
	id := envfile.ID("acme", "shop", 61)
	serviceID, dataID := "hello-service-"+id, "hello-service-"+id+"-data"

	// PR opens: both stacks apply, the data stack first; the URL serves
	// the sha and the greeting the function read from the data bucket.
	h.push(h.repo.commit("main", map[string][]byte{path: file}))
	h.settle()
	data, service := h.lastRun(dataID), h.lastRun(serviceID)
	ranAfter(t, h, data, service)
	// Queued together by the trigger policy, the service waited for the
	// data stack: one run each, none failed for missing inputs.
	if runs := h.runsOf(serviceID, dataID); len(runs) != 2 {
		t.Fatalf("%d runs on the two new stacks, want one each\n%s", len(runs), h.dump())
	}
	if l := h.log(service.ID); !strings.Contains(l, "input TF_VAR_greeting_bucket from a stack dependency reference") {
		t.Fatalf("the service run did not get its input from the reference:\n%s", l)
	}
	st, err := h.eng.Stack(context.Background(), serviceID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.DependsOn, []string{dataID}) || st.Role != RoleService {
		t.Fatalf("service stack depends on %v (role %q), want [%s]", st.DependsOn, st.Role, dataID)
	}
	h.serves(id, sha1, "Hello world")
	if got := buckets(t, h, "preview-"+id+"-"); len(got) != 1 {
		t.Fatalf("data buckets %v, want one", got)
	}

	// The greeting changes in infra/data: both stacks re-run (both roots
	// are touched), the data stack first; the new greeting is served.
	h.push(h.repo.commit("main", map[string][]byte{"infra/data/greeting.txt": []byte("Hej verden\n")}))
	h.settle()
	data2, service2 := h.lastRun(dataID), h.lastRun(serviceID)
	if data2.ID == data.ID || service2.ID == service.ID {
		t.Fatalf("the greeting change did not re-run both stacks\n%s", h.dump())
	}
	ranAfter(t, h, data2, service2)
	h.serves(id, sha1, "Hej verden")

	// A service-only push (new code_version) runs the service stack alone.
	_, file2 := envFile(t, "acme", "shop", 61, sha2, "main")
	h.push(h.repo.commit("main", map[string][]byte{path: file2}))
	h.settle()
	if d := h.lastRun(dataID); d.ID != data2.ID {
		t.Fatalf("a service-only change re-ran the data stack (%s: %s)\n%s", d.ID, d.Cause, h.dump())
	}
	if s := h.lastRun(serviceID); s.ID == service2.ID || s.State != StateFinished {
		t.Fatalf("the service stack did not run for its new code_version\n%s", h.dump())
	}
	h.serves(id, sha2, "Hej verden")

	// The upstream cannot be deleted while the service depends on it.
	if _, err := h.eng.DeleteStack(context.Background(), dataID, true); err == nil || !strings.Contains(err.Error(), "dependents") {
		t.Fatalf("deleting the data stack under its dependent: err = %v", err)
	}

	// Close: the service is destroyed before the data it reads, the data
	// last; nothing is left in S3 or the Lambda pool.
	h.push(h.repo.commit("main", map[string][]byte{path: nil}))
	h.settle()
	if m := h.lastRun(managerID); m.State != StateFinished {
		t.Fatalf("manager run %s\n%s", m.State, h.log(m.ID))
	}
	var sDestroy, dDestroy Run
	for _, r := range h.runsOf(serviceID, dataID) {
		if r.Type == RunDestroy && r.StackID == serviceID {
			sDestroy = r
		}
		if r.Type == RunDestroy && r.StackID == dataID {
			dDestroy = r
		}
	}
	if sDestroy.State != StateFinished || dDestroy.State != StateFinished {
		t.Fatalf("destroy runs: service %s, data %s\n%s", sDestroy.State, dDestroy.State, h.dump())
	}
	if !dDestroy.Entered(StatePreparing).After(sDestroy.Entered(StateFinished)) {
		t.Fatalf("the data stack's destroy started before the service's finished\n%s", h.dump())
	}
	for _, sid := range []string{serviceID, dataID} {
		if _, err := h.eng.Stack(context.Background(), sid); err == nil {
			t.Fatalf("stack %s still exists", sid)
		}
	}
	if got := buckets(t, h, "preview-"+id+"-"); len(got) != 0 {
		t.Fatalf("buckets left after close: %v", got)
	}
	if envs := h.sb.Environments(); len(envs) != 0 {
		t.Fatalf("environments left in the Lambda pool after close: %+v", envs)
	}
	if code, _ := h.get(id); code != http.StatusNotFound {
		t.Fatalf("closed environment answers %d, want 404", code)
	}
}

// serves checks that environment id runs the artifact of version and
// answers with greeting. Every test artifact is one build (its baked-in
// version is "latest"), so the version is read from the function's code
// key; the greeting is what the function read from the data bucket.
func (h *harness) serves(id, version, greeting string) {
	h.t.Helper()
	if code, body := h.get(id); code != http.StatusOK || body != "latest: "+greeting {
		h.t.Fatalf("environment %s answers %d %q, want the greeting %q\n%s", id, code, body, greeting, h.dump())
	}
	for _, e := range h.sb.Environments() {
		if e.ID == id && e.ArtifactKey == version+".zip" {
			return
		}
	}
	h.t.Fatalf("environment %s does not run %s.zip: %+v", id, version, h.sb.Environments())
}

// s3 is an S3 client of the sandbox's S3 stand-in, as any client sees it.
func (h *harness) s3() *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(h.sb.S3Endpoint()), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
}

// runsOf lists the runs of some stacks, newest first.
func (h *harness) runsOf(ids ...string) []Run {
	h.t.Helper()
	var out []Run
	for _, id := range ids {
		runs, err := h.eng.Runs(context.Background(), id, 50)
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, runs...)
	}
	return out
}

// TestOutputOnlyChangeApplies: a plan whose only change is an output is a
// plan with changes to tofu (-detailed-exitcode 2, and `tofu apply` would
// apply it), so the run applies and the new output reaches the stack's
// outputs, where stack dependency references read them. Reading "changes"
// as managed resource changes only finished such a run at planning and left
// the outputs stale.
func TestOutputOnlyChangeApplies(t *testing.T) {
	t.Parallel()
	h := newTwoStackHarness(t)
	h.upload(sha1)
	path, file := envFile(t, "acme", "shop", 62, sha1, "main")
	id := envfile.ID("acme", "shop", 62)
	dataID := "hello-service-" + id + "-data"
	h.push(h.repo.commit("main", map[string][]byte{path: file}))
	h.settle()
	before := h.lastRun(dataID)
	if before.State != StateFinished {
		t.Fatalf("data stack's first run %s\n%s", before.State, h.dump())
	}

	outputs, err := os.ReadFile(filepath.Join(h.repo.dir, "infra", "data", "outputs.tf"))
	if err != nil {
		t.Fatal(err)
	}
	extra := append(outputs, []byte("\noutput \"schema_version\" {\n  description = \"Test-only output.\"\n  value       = \"2\"\n}\n")...)
	h.push(h.repo.commit("main", map[string][]byte{"infra/data/outputs.tf": extra}))
	h.settle()
	r := h.lastRun(dataID)
	if r.ID == before.ID {
		t.Fatalf("the output change did not run the data stack\n%s", h.dump())
	}
	if r.State != StateFinished || r.Entered(StateApplying).IsZero() {
		t.Fatalf("output-only run %s %s, history %+v: want it applied\n%s", r.ID, r.State, r.History, h.log(r.ID))
	}
	if got := applied(r); len(got) != 0 {
		t.Fatalf("output-only run applied resource changes %v", got)
	}
	outs, err := h.eng.Outputs(context.Background(), dataID)
	if err != nil {
		t.Fatal(err)
	}
	if outs["schema_version"] != "2" || outs["bucket"] == nil {
		t.Fatalf("data stack outputs after the run: %v, want schema_version 2 beside the bucket", outs)
	}
}

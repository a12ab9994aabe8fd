package sandbox

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"preview-environments/previewctl/pkg/sandbox/platform"
	"preview-environments/previewctl/pkg/sandbox/spacelift"
	"preview-environments/test/e2e"
)

// lastRun is a stack's latest run.
func lastRun(ctx context.Context, t *testing.T, b *Backend, stackID string) spacelift.Run {
	t.Helper()
	runs, err := b.Platform().Engine.Runs(ctx, stackID, 1)
	if err != nil || len(runs) == 0 {
		t.Fatalf("no run on %s: %v", stackID, err)
	}
	return runs[0]
}

// inOrder fails unless first finished before second started.
func inOrder(t *testing.T, first, second spacelift.Run) {
	t.Helper()
	done, started := first.Entered(spacelift.StateFinished), second.Entered(spacelift.StatePreparing)
	if done.IsZero() || started.IsZero() || started.Before(done) {
		t.Fatalf("want %s (%s, %s) finished before %s (%s, %s) started: finished %v, started %v",
			first.ID, first.StackID, first.State, second.ID, second.StackID, second.State, done, started)
	}
}

// body reads the environment's answer once.
func body(ctx context.Context, b *Backend, pr e2e.PR) (int, string, error) {
	ep := b.Endpoint(pr)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL+"hello", nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = ep.Host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(raw), err
}

// TestTwoStackSandbox is the two-stack environment through the whole
// platform (CI, render, manager, trigger policy, stack dependency, data
// plane), waited for with the same terratest-based waits as the cloud
// suite: both stacks apply in dependency order and the URL serves the
// head sha with the greeting the function read from the data stack's
// bucket; a greeting change re-runs both in order; a service-only push
// runs the service alone; closing destroys the service before the data,
// leaving nothing in S3 or the Lambda pool.
func TestTwoStackSandbox(t *testing.T) {
	b := start(t, nil)
	budget := e2e.SandboxBudget
	ctx, cancel := context.WithTimeout(context.Background(), 2*scenarioTimeout(budget))
	defer cancel()
	ctx, stop := b.FailFast(ctx, budget.Poll)
	defer stop()
	greeting, err := os.ReadFile(filepath.Join(b.Platform().Config().RepoRoot, "infra", "data", "greeting.txt"))
	if err != nil {
		t.Fatal(err)
	}

	pr, err := b.OpenPR(ctx, e2e.ServiceChange{Marker: "two-" + e2e.UniqueID()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), budget.CleanupTimeout)
		defer cancel()
		_ = b.Close(cctx, pr)
	})
	if _, err := e2e.WaitServes(ctx, t, b.Endpoint(pr), pr.HeadSHA, budget.Deploy, budget.Poll); err != nil {
		t.Fatalf("%v\n%s", err, b.Diagnostics(ctx, pr))
	}
	serviceID := b.StackID(pr.EnvironmentID)
	dataID := serviceID + "-data"
	if code, got, err := body(ctx, b, pr); checkBody(got, pr.HeadSHA, string(greeting), err) != nil {
		t.Fatalf("first deploy: HTTP %d: %v", code, checkBody(got, pr.HeadSHA, string(greeting), err))
	}
	if err := b.Platform().Engine.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	data, service := lastRun(ctx, t, b, dataID), lastRun(ctx, t, b, serviceID)
	inOrder(t, data, service)

	// The greeting changes on main (infra/data is part of infra/): both
	// stacks re-run, the data stack first, and the new greeting is served.
	pl := b.Platform()
	head, err := pl.Git.Head(ctx, pr.Owner, pr.Repo, platform.DefaultBranch)
	if err != nil {
		t.Fatal(err)
	}
	const hej = "Hej from the e2e data stack"
	if _, err := pl.Git.CommitFiles(ctx, pr.Owner, pr.Repo, platform.DefaultBranch, head,
		map[string][]byte{"infra/data/greeting.txt": []byte(hej + "\n")}, "e2e: change the greeting"); err != nil {
		t.Fatal(err)
	}
	if err := e2e.WaitUntil(ctx, t, "the new greeting is served", budget.Redeploy, budget.Poll, func() error {
		_, got, err := body(ctx, b, pr)
		return checkBody(got, pr.HeadSHA, hej, err)
	}); err != nil {
		t.Fatalf("%v\n%s", err, b.Diagnostics(ctx, pr))
	}
	if err := pl.Engine.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	data2, service2 := lastRun(ctx, t, b, dataID), lastRun(ctx, t, b, serviceID)
	if data2.ID == data.ID || service2.ID == service.ID {
		t.Fatalf("the greeting change did not re-run both stacks: data %s -> %s, service %s -> %s", data.ID, data2.ID, service.ID, service2.ID)
	}
	inOrder(t, data2, service2)

	// A service-only push: the service stack runs, the data stack does not.
	sha, err := b.Push(ctx, pr, e2e.ServiceChange{Marker: "two-" + e2e.UniqueID()})
	if err != nil {
		t.Fatal(err)
	}
	pr.HeadSHA = sha
	if _, err := e2e.WaitServes(ctx, t, b.Endpoint(pr), sha, budget.Redeploy, budget.Poll); err != nil {
		t.Fatalf("%v\n%s", err, b.Diagnostics(ctx, pr))
	}
	if err := pl.Engine.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if d := lastRun(ctx, t, b, dataID); d.ID != data2.ID {
		t.Fatalf("a service-only push re-ran the data stack: %s (%s)", d.ID, d.Cause)
	}
	if s := lastRun(ctx, t, b, serviceID); s.ID == service2.ID || s.State != spacelift.StateFinished {
		t.Fatalf("the service stack's run after the push: %+v", s)
	}

	// Close: the service's destroy finishes before the data's starts; then
	// nothing of the environment is left.
	if err := b.Close(ctx, pr); err != nil {
		t.Fatal(err)
	}
	if err := e2e.WaitUntil(ctx, t, "the environment is gone", budget.Destroy, budget.Poll, func() error { return b.Gone(ctx, pr) }); err != nil {
		t.Fatalf("%v\n%s", err, b.Diagnostics(ctx, pr))
	}
	var sDestroy, dDestroy spacelift.Run
	runs, err := pl.Engine.Runs(ctx, "", 200)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		switch {
		case r.Type == spacelift.RunDestroy && r.StackID == serviceID:
			sDestroy = r
		case r.Type == spacelift.RunDestroy && r.StackID == dataID:
			dDestroy = r
		}
	}
	if sDestroy.State != spacelift.StateFinished || dDestroy.State != spacelift.StateFinished {
		t.Fatalf("destroy runs: service %q, data %q", sDestroy.State, dDestroy.State)
	}
	inOrder(t, sDestroy, dDestroy)
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(pl.SB.S3Endpoint()), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("e2e", "e2e", "")})
	out, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bk := range out.Buckets {
		if strings.HasPrefix(aws.ToString(bk.Name), "preview-"+pr.EnvironmentID+"-") {
			t.Errorf("bucket %s is left after the close", aws.ToString(bk.Name))
		}
	}
	if envs := pl.SB.Environments(); len(envs) != 0 {
		t.Errorf("the Lambda pool still holds %+v", envs)
	}
}

// checkBody wants "<sha>: <greeting>".
func checkBody(got, sha, greeting string, err error) error {
	if err != nil {
		return err
	}
	if want := sha + ": " + strings.TrimSpace(greeting); got != want {
		return fmt.Errorf("answers %q, want %q", got, want)
	}
	return nil
}

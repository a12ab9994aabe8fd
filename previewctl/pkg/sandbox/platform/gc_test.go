package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/envfile"
)

// TestGCOnGitHost: a sandbox gc pass is gc.yml's on the sandbox's own
// repository: PR states from the GitHub stand-in's pulls API, expired
// on-demand environments by their TTL, deletions committed to main through
// the contents API, warnings ahead of expiry, and the mass-deletion guard.
func TestGCOnGitHost(t *testing.T) {
	ctx := context.Background()
	p, ps := controlPlane(t)
	at := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }

	// Two on-demand environments (1 h and 5 h to live) and the files of
	// two PRs, one of them closed.
	for _, od := range []struct{ name, ttl string }{{"qa-short", "1h"}, {"qa-long", "5h"}} {
		if _, err := p.CreateOnDemand(ctx, OnDemandRequest{Name: od.name, TTL: od.ttl}); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string][]byte{}
	var closedFile string
	head, err := p.Git.Head(ctx, DefaultOwner, DefaultRepo, DefaultBranch)
	if err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{"open one", "closed one"} {
		branch := "feature/" + strings.Fields(title)[0]
		if err := p.Git.CreateBranch(ctx, DefaultOwner, DefaultRepo, branch, head); err != nil {
			t.Fatal(err)
		}
		pr, err := p.Git.OpenPR(ctx, DefaultOwner, DefaultRepo, branch, DefaultBranch, title)
		if err != nil {
			t.Fatal(err)
		}
		e, err := envfile.New(DefaultService, DefaultOwner, DefaultRepo, pr.Number, "latest", DefaultBranch, time.Now(), 30*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		f, b := rendered(t, e)
		files[f] = b
		if title == "closed one" {
			closedFile = f
			if _, err := p.Git.ClosePR(ctx, DefaultOwner, DefaultRepo, pr.Number); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := p.Git.CommitFiles(ctx, DefaultOwner, DefaultRepo, DefaultBranch, "", files, "two PR environments"); err != nil {
		t.Fatal(err)
	}
	short := "manager/hello-service/environments/" + odFile(t, p, "qa-short")
	onMainNow := func(f string) bool {
		_, err := p.Git.ReadFile(ctx, DefaultOwner, DefaultRepo, DefaultBranch, f)
		return err == nil
	}

	// A dry run two hours on: the closed PR's file and the expired
	// on-demand one would go; the one expiring within 4 h is warned about.
	rep, err := p.GC(ctx, GCRequest{DryRun: true, Now: at(2 * time.Hour), WarnWithin: "4h"})
	if err != nil || rep.Error != "" {
		t.Fatalf("dry run: %v %s", err, rep.Error)
	}
	if got := gcFiles(rep.WouldDelete); got != strings.Join(sorted(closedFile, short), ",") || len(rep.Deleted) != 0 || rep.Total != 4 {
		t.Fatalf("dry run would delete %s (deleted %d of %d), want %s and %s\n%s", got, len(rep.Deleted), rep.Total, closedFile, short, strings.Join(rep.Log, "\n"))
	}
	if len(rep.Expiring) != 1 || rep.Expiring[0].Name != "qa-long" || !strings.Contains(strings.Join(rep.Log, "\n"), "previewctl env extend --name qa-long") {
		t.Fatalf("expiring %+v\n%s", rep.Expiring, strings.Join(rep.Log, "\n"))
	}
	if !onMainNow(closedFile) || !onMainNow(short) {
		t.Fatal("a dry run deleted files")
	}

	// Six hours on, three of four would go: over the guard's half, nothing
	// is deleted.
	rep, err = p.GC(ctx, GCRequest{Now: at(6 * time.Hour)})
	if err != nil || !rep.Guard || len(rep.Deleted) != 0 || !strings.Contains(rep.Error, "mass-deletion guard") {
		t.Fatalf("guard: %v %+v", err, rep)
	}
	if !onMainNow(closedFile) || !onMainNow(short) {
		t.Fatal("the guard let files be deleted")
	}

	// The real pass, two hours on: both files leave main, one commit each,
	// and the pushes reach whoever listens (the Spacelift stand-in).
	rep, err = p.GC(ctx, GCRequest{Now: at(2 * time.Hour)})
	if err != nil || rep.Error != "" {
		t.Fatalf("gc: %v %s\n%s", err, rep.Error, strings.Join(rep.Log, "\n"))
	}
	if got := gcFiles(rep.Deleted); got != strings.Join(sorted(closedFile, short), ",") {
		t.Fatalf("deleted %s\n%s", got, strings.Join(rep.Log, "\n"))
	}
	for _, d := range rep.Deleted {
		if d.Reason == "" {
			t.Errorf("deleted %s without a reason", d.File)
		}
	}
	if onMainNow(closedFile) || onMainNow(short) {
		t.Fatal("deleted files are still on main")
	}
	if !ps.saw(DefaultBranch+":"+closedFile) || !ps.saw(DefaultBranch+":"+short) {
		t.Errorf("deletions not pushed: %v", ps.files)
	}
	list, err := p.OnDemand(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "qa-long" {
		t.Fatalf("on-demand environments after gc: %+v %v", list, err)
	}

	// Bad input is refused before a pass runs.
	if _, err := p.GC(ctx, GCRequest{WarnWithin: "soon"}); err == nil || !strings.Contains(err.Error(), "warn_within") {
		t.Fatalf("warn_within soon: %v", err)
	}
	if _, err := p.GC(ctx, GCRequest{Now: "tomorrow"}); err == nil || !strings.Contains(err.Error(), "now") {
		t.Fatalf("now tomorrow: %v", err)
	}
}

// rendered is e's file: its path in the repository and its contents.
func rendered(t *testing.T, e envfile.Environment) (string, []byte) {
	t.Helper()
	b, err := envfile.Render(e)
	if err != nil {
		t.Fatal(err)
	}
	return path.Join("manager", e.Service, "environments", envfile.FileName(e)), b
}

func odFile(t *testing.T, p *Platform, name string) string {
	t.Helper()
	list, err := p.OnDemand(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range list {
		if v.Name == name {
			return envfile.FileName(v.Environment)
		}
	}
	t.Fatalf("no on-demand environment %s: %+v", name, list)
	return ""
}

func gcFiles(envs []GCEnv) string {
	var out []string
	for _, e := range envs {
		out = append(out, e.File)
	}
	return strings.Join(sorted(out...), ",")
}

func sorted(s ...string) []string { return slices.Sorted(slices.Values(s)) }

// TestGCAPI: POST /api/gc answers the report with the pass's status: 200,
// 409 when the guard stopped it, 500 when it had errors; bad input is a
// 400 naming the field and runs no pass.
func TestGCAPI(t *testing.T) {
	var ran []GCRequest
	answer := GCReport{}
	mux := http.NewServeMux()
	MountGC(mux.Handle, func(_ context.Context, req GCRequest) (GCReport, error) {
		ran = append(ran, req)
		return answer, nil
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/api/gc", "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, v
	}
	for _, tc := range []struct {
		name   string
		body   string
		answer GCReport
		code   int
		field  string
	}{
		{"a clean pass", `{"dry_run":true}`, GCReport{Total: 3}, http.StatusOK, ""},
		{"the guard stopped it", `{}`, GCReport{Guard: true, Error: "mass-deletion guard: ..."}, http.StatusConflict, ""},
		{"errors", `{}`, GCReport{Error: "gc finished with 1 errors"}, http.StatusInternalServerError, ""},
		{"bad warn_within", `{"warn_within":"-1h"}`, GCReport{}, http.StatusBadRequest, "warn_within"},
		{"bad now", `{"now":"2026-13-01"}`, GCReport{}, http.StatusBadRequest, "now"},
		{"unknown field", `{"dryrun":true}`, GCReport{}, http.StatusBadRequest, "dryrun"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran, answer = nil, tc.answer
			code, v := post(tc.body)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %v", code, tc.code, v)
			}
			if tc.field != "" {
				if msg, _ := v["error"].(string); !strings.Contains(msg, tc.field) || len(ran) != 0 {
					t.Fatalf("error %q (want it to name %s), passes run %d", msg, tc.field, len(ran))
				}
				return
			}
			if len(ran) != 1 || v["total"] != float64(tc.answer.Total) {
				t.Fatalf("passes %d, report %v", len(ran), v)
			}
		})
	}
}

// TestGCLoop: the scheduled pass Serve runs every GCInterval removes an
// on-demand environment whose TTL has passed, without anyone asking, and
// stops with its context.
func TestGCLoop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p, _ := controlPlane(t)
	e, err := envfile.NewOnDemand(DefaultService, "qa-stale", "latest", DefaultBranch, time.Now().Add(-3*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f, b := rendered(t, e)
	if _, err := p.Git.CommitFiles(ctx, DefaultOwner, DefaultRepo, DefaultBranch, "", map[string][]byte{f: b}, "a stale on-demand environment"); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); p.gcLoop(ctx, 20*time.Millisecond) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := p.Git.ReadFile(ctx, DefaultOwner, DefaultRepo, DefaultBranch, f); err != nil {
			break // gone
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still on main after 30 s of scheduled passes", f)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the gc loop did not stop with its context")
	}
}

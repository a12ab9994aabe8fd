package dashboard_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox/platform"
)

// chromium finds Debian's Chromium; the Makefile's chromium target
// installs it.
func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium not found: run make tools (as root it runs apt-get install -y chromium), or apt-get update && apt-get install -y chromium")
	return ""
}

// browser starts headless Chromium with a fresh profile and no traffic of
// its own (no sync, updates or QUIC probes).
func browser(t testing.TB) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	// The first action starts the browser, which lives as long as the
	// context of that action: start it here, without a deadline.
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start %s: %v", chromium(t), err)
	}
	return ctx, func() { cancelCtx(); cancelAlloc() }
}

// step runs one browser action with a deadline and fails the test on error.
func step[T any](t testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// artifactDir is where screenshots go: $TEST_ARTIFACTS when set (CI keeps
// it), else the test's temporary directory.
func artifactDir(t testing.TB) string {
	if d := os.Getenv("TEST_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestBrowserLiveEnvironment opens the dashboard in headless Chromium, opens
// a PR through the platform, and watches the environment's row appear and
// turn live in the same page: a marker set on window before the PR must
// still be there after, so nothing reloaded the page.
func TestBrowserLiveEnvironment(t *testing.T) {
	p := openPlatform(t)
	ctx, cancel := browser(t)
	defer cancel()
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	// text waits for sel and reads its text in one evaluation: the live
	// updates replace the fragment's nodes at any moment, so a query that
	// finds a node and a second call that reads it (chromedp.Text) can
	// lose the node in between ("No node with given id found").
	text := func(sel chromedp.CSS) string {
		t.Helper()
		got := step(t, ctx, "read "+string(sel), chromedp.Poll[[]string](fmt.Sprintf(
			`(function(){var e=document.querySelector(%q); return e ? [e.innerText] : null})()`, string(sel)),
			chromedp.WithPollingInterval(50*time.Millisecond)))
		if len(got) != 1 {
			t.Fatalf("read %s: got %q", sel, got)
		}
		return strings.TrimSpace(got[0])
	}

	step(t, ctx, "open the dashboard", chromedp.Steps(
		chromedp.Navigate(p.SB.URL()+"/"),
		chromedp.WaitVisible(css(`#environments`)),
		chromedp.WaitVisible(css(`#live-status[data-state="live"]`)),
	))
	marker := step(t, ctx, "mark the page", chromedp.Evaluate[string](`window.__dashboardMarker = "set before the PR"`))

	pr, err := p.OpenPR(ctx, "feature/dashboard", "Show it on the dashboard", handlerWith(t, "Hello dashboard"))
	if err != nil {
		t.Fatal(err)
	}
	id := envfile.ID(pr.Owner, pr.Repo, pr.Number)
	row := fmt.Sprintf(`tr[data-env-id="%s"]`, id)
	group := fmt.Sprintf(`tr[data-group-of="%s"]`, id)

	// Record every state the row shows until it is live, and every text
	// its stacks' group shows.
	var seen, groupSeen []string
	for deadline := time.Now().Add(4 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		got := step(t, ctx, "read the row's state", chromedp.Evaluate[[]string](fmt.Sprintf(
			`(function(){var r=document.querySelector(%q), g=document.querySelector(%q);
			return [r?r.dataset.state:"", g?g.textContent.replace(/\s+/g," ").trim():""]})()`, row, group)))
		state := got[0]
		if g := got[1]; g != "" && (len(groupSeen) == 0 || groupSeen[len(groupSeen)-1] != g) {
			groupSeen = append(groupSeen, g)
		}
		if state != "" && (len(seen) == 0 || seen[len(seen)-1] != state) {
			seen = append(seen, state)
		}
		if state == "live" {
			break
		}
		if state == "failed" || time.Now().After(deadline) {
			pv, _ := p.Preview(context.Background(), pr.Number)
			t.Fatalf("row %s showed %v, never live; its group showed %q; preview %+v\n%s", id, seen, groupSeen, pv, environmentRuns(p, id))
		}
	}
	t.Logf("row %s states seen: %v", id, seen)
	t.Logf("its group showed:\n%s", strings.Join(groupSeen, "\n"))
	if seen[0] != "creating" || slices.Contains(seen, "updating") {
		t.Errorf("the row showed %v: want creating (the build takes seconds) then live, never updating on a first deploy", seen)
	}

	after := step(t, ctx, "read the marker", chromedp.Evaluate[string](`window.__dashboardMarker || ""`))
	if after != marker {
		t.Fatalf("window marker is %q after the update, want %q: the page reloaded", after, marker)
	}
	if n := step(t, ctx, "count updates", chromedp.Evaluate[string](`document.body.dataset.updates || "0"`)); n == "0" {
		t.Fatal("the page shows the row but counted no live update")
	}

	// Markup a screen reader can walk: landmarks, every table captioned with
	// scoped headers, and the environments announced as they change.
	problems := step(t, ctx, "check the markup", chromedp.Evaluate[[]string](`(function(){
		var p = [];
		["header", "nav", "main", "footer"].forEach(function (tag) {
			if (!document.querySelector(tag)) { p.push("no <" + tag + "> landmark"); }
		});
		if ((document.getElementById("environments") || {}).getAttribute("aria-live") !== "polite") {
			p.push("#environments is not an aria-live region");
		}
		document.querySelectorAll("table").forEach(function (t, i) {
			if (!t.querySelector("caption")) { p.push("table " + i + " has no caption"); }
			t.querySelectorAll("thead th").forEach(function (th) {
				if (th.getAttribute("scope") !== "col") { p.push("table " + i + " header without scope=col"); }
			});
		});
		document.querySelectorAll("[src], link[href]").forEach(function (e) {
			var u = e.getAttribute("src") || e.getAttribute("href");
			if (/^[a-z]+:/i.test(u) && u.indexOf("data:") !== 0) { p.push("external asset " + u); }
		});
		return p;
	})()`))
	if len(problems) > 0 {
		t.Errorf("markup problems: %v", problems)
	}
	pv, err := p.Preview(context.Background(), pr.Number)
	if err != nil {
		t.Fatal(err)
	}
	href := step(t, ctx, "read the link", chromedp.AttributeValue(css(row+` td.url a`), "href"))
	checks := []struct{ what, got, want string }{
		{"PR", text(css(row + ` td.pr`)), fmt.Sprintf("%s/%s#%d", pr.Owner, pr.Repo, pr.Number)},
		{"code version", text(css(row + ` td.version`)), pr.HeadSHA[:7]},
		{"URL", href.Value, pv.URL},
		{"infra branch", text(css(row + ` td.branch`)), platform.DefaultBranch},
		{"state", text(css(row + ` td.state`)), "live"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
	if exp := text(css(row + ` td.expires`)); !strings.HasPrefix(exp, "in ") {
		t.Errorf("expiry %q, want a time to come (in ...)", exp)
	}
	// The environment is a group of two stacks: the data stack, then the
	// service stack that depends on it, each with its latest run.
	svcStack, dataStack := "hello-service-"+id, "hello-service-"+id+"-data"
	step(t, ctx, "see the environment's stacks", chromedp.Steps(
		chromedp.WaitVisible(css(group)),
		chromedp.WaitVisible(css(fmt.Sprintf(`%s li[data-stack-id="%s"][data-role="data"]`, group, dataStack))),
		chromedp.WaitVisible(css(fmt.Sprintf(`%s li[data-stack-id="%s"][data-role="service"]`, group, svcStack))),
	))
	groupText := strings.Join(strings.Fields(text(css(group))), " ")
	for _, want := range []string{"data → service", "data " + dataStack + ": FINISHED tracked",
		"service " + svcStack + " (depends on data): FINISHED tracked"} {
		if !strings.Contains(groupText, want) {
			t.Errorf("the environment's group reads %q, want it to hold %q", groupText, want)
		}
	}
	if deps := text(css(`#stack-` + svcStack + ` p.deps`)); !strings.Contains(deps, "Depends on "+dataStack) {
		t.Errorf("the service stack's heading block says %q, want it to depend on %s", deps, dataStack)
	}
	if n := step(t, ctx, "count the data stack's runs", chromedp.Evaluate[int](fmt.Sprintf(
		`document.querySelectorAll("#stack-%s table.runs tbody tr").length`, dataStack))); n == 0 {
		t.Errorf("the data stack %s shows no runs", dataStack)
	}
	stackSel := "#stack-" + svcStack
	if cause := text(css(stackSel + ` table.runs tbody tr[data-state="FINISHED"] td.cause`)); cause == "" {
		t.Error("the environment's stack shows no finished run with a cause")
	}
	if evals := text(css(`#evaluations tbody`)); !strings.Contains(evals, "hello-service-"+id) {
		t.Errorf("policy evaluations do not mention the environment's stack:\n%s", evals)
	}

	// A log a person opened stays open across live updates.
	runID := step(t, ctx, "read the latest run", chromedp.AttributeValue(css(stackSel+` table.runs tbody tr`), "data-run-id")).Value
	logSel := "#log-" + runID
	step(t, ctx, "open the latest run's log", chromedp.Steps(
		chromedp.Click(css(logSel+` summary`)),
		chromedp.WaitVisible(css(logSel+` pre`)),
	))
	// The run's log is tofu's own output; its tail is the apply's summary.
	if log := text(css(logSel + ` pre`)); !strings.Contains(log, "Apply complete! Resources: ") {
		t.Errorf("the opened log of %s reads:\n%s", runID, log)
	}
	pr2, err := p.PushPR(ctx, pr.Number, "Greet again", handlerWith(t, "Hello again"))
	if err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "wait for the push to show and go live", chromedp.Steps(
		chromedp.WaitVisible(css(fmt.Sprintf(`%s td.version code[title="%s"]`, row, pr2.HeadSHA))),
		chromedp.WaitVisible(css(row+`[data-state="live"]`)),
	))
	if step(t, ctx, "read the newest run", chromedp.AttributeValue(css(stackSel+` table.runs tbody tr`), "data-run-id")).Value == runID {
		t.Fatalf("the push added no run to %s above %s", stackSel, runID)
	}
	if !step(t, ctx, "check the log", chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q).open && !!document.querySelector(%q)`, logSel, logSel+" pre"))) {
		t.Error("the log a person opened closed itself on a live update")
	}

	// A second PR, caught while it is still on its way, so the picture
	// shows more than one state.
	second, err := p.OpenPR(ctx, "feature/second", "A second preview", handlerWith(t, "Hello second"))
	if err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "wait for the second PR's row", chromedp.WaitVisible(
		css(fmt.Sprintf(`tr[data-env-id="%s"]`, envfile.ID(second.Owner, second.Repo, second.Number)))))
	png := step(t, ctx, "screenshot", chromedp.FullScreenshot(100))
	shot := filepath.Join(artifactDir(t), "dashboard.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
	if os.Getenv("UPDATE_SCREENSHOT") == "1" {
		doc := filepath.Join(repoRoot(t), "docs", "dashboard.png")
		if err := os.WriteFile(doc, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", doc)
	}

	// The link is a real one: the browser resolves *.localhost to loopback.
	// It serves the push's code with the greeting of the data stack's
	// bucket (infra/data/greeting.txt), which the service stack reads
	// through the dependency: the code's default greeting does not show.
	greeting, err := os.ReadFile(filepath.Join(repoRoot(t), "infra", "data", "greeting.txt"))
	if err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "follow the environment's link", chromedp.Navigate(pv.URL))
	if body, want := text(css(`body`)), pr2.HeadSHA+": "+strings.TrimSpace(string(greeting)); body != want {
		t.Errorf("the environment's URL answers %q, want %q", body, want)
	}

	// Closing the PR: the row goes away live, and the destructor's run
	// stays visible under the deleted stacks.
	step(t, ctx, "back to the dashboard", chromedp.Steps(
		chromedp.Navigate(p.SB.URL()+"/"),
		chromedp.WaitVisible(css(`#live-status[data-state="live"]`)),
		chromedp.WaitVisible(css(row)),
	))
	step(t, ctx, "mark the page again", chromedp.Evaluate[string](`window.__dashboardMarker = "set before the close"`))
	if _, err := p.ClosePR(ctx, pr.Number); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "wait for the row to go and the destroy run to show", chromedp.Steps(
		chromedp.WaitNotPresent(css(row)),
		chromedp.WaitVisible(css(`#stack-deleted tr[data-state="FINISHED"] .tag`)),
	))
	if m := step(t, ctx, "read the marker", chromedp.Evaluate[string](`window.__dashboardMarker || ""`)); m != "set before the close" {
		t.Fatalf("window marker is %q after the close: the page reloaded", m)
	}
	if cause := text(css(`#stack-deleted tr[data-state="FINISHED"] td.cause`)); !strings.Contains(strings.ToLower(cause), "destr") {
		t.Errorf("the deleted stack's finished run has cause %q, want the destructor", cause)
	}
}

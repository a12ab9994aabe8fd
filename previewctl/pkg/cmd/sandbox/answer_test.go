package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"preview-environments/previewctl/pkg/cmd/sandbox"
)

// fakeAPI answers the sandbox API paths the pr commands call with canned
// JSON, and records the requests.
type fakeAPI struct {
	mu       sync.Mutex
	answers  map[string]string // "METHOD /path" -> JSON body (status 200)
	requests []string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.RequestURI()
	f.mu.Lock()
	f.requests = append(f.requests, key)
	body, ok := f.answers[key]
	f.mu.Unlock()
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"PR not found"}`)
		return
	}
	io.WriteString(w, body)
}

func (f *fakeAPI) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

const (
	openPR   = `{"number":1,"title":"T","state":"open","head_ref":"a/b","head_sha":"0123456789abcdef0123456789abcdef01234567","preview":{"number":1,"state":"live","url":"http://x.hello-service.localhost:1/"},"ci_log":[]}`
	closedPR = `{"number":2,"title":"T","state":"closed","head_ref":"c","head_sha":"0123456789abcdef0123456789abcdef01234567","preview":{"number":2,"state":"destroyed"},"ci_log":[]}`
	prList   = `[{"number":1,"title":"T","state":"open","head_ref":"a/b","head_sha":"0123456789abcdef0123456789abcdef01234567"}]`
	// githost.PR has no JSON tags: the API sends its Go field names.
	ghPR = `{"Number":1,"HeadRef":"a/b","HeadSHA":"0123456789abcdef0123456789abcdef01234567","State":"closed"}`
)

// TestPRAnswers drives the pr commands against a canned API: --json prints
// the API's JSON as sent, lines otherwise; closing a closed PR says so and
// sends no close; a PR number in any spelling but plain decimal is refused
// (exit 2, naming it) before anything is sent.
func TestPRAnswers(t *testing.T) {
	api := &fakeAPI{answers: map[string]string{
		"GET /api/prs":            prList,
		"GET /api/prs/1":          openPR,
		"GET /api/prs/2":          closedPR,
		"POST /api/prs/1/close":   ghPR,
		"POST /api/prs/1/commits": ghPR,
	}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // exact when want is "", else a substring of stdout
		want   string // a substring of stderr's one line (code != 0)
		sends  []string
	}{
		{name: "ls", args: []string{"ls"}, stdout: "#1    open   a/b                      0123456 no preview\n", sends: []string{"GET /api/prs"}},
		{name: "ls --json", args: []string{"ls", "--json"}, stdout: prList, sends: []string{"GET /api/prs"}},
		{name: "show", args: []string{"show", "1"}, stdout: "PR #1 \"T\" (open)\nhead    a/b at 0123456789abcdef0123456789abcdef01234567\npreview live, environment , code_version \nURL     http://x.hello-service.localhost:1/\n        \nCI log:\n  (empty)\n", sends: []string{"GET /api/prs/1"}},
		{name: "show --json", args: []string{"show", "1", "--json"}, stdout: openPR, sends: []string{"GET /api/prs/1"}},
		{name: "show unknown", args: []string{"show", "7"}, code: 1, want: "PR not found", sends: []string{"GET /api/prs/7"}},
		{name: "push", args: []string{"push", "1", "--set", "a=1"}, stdout: "PR #1: pushed 0123456789abcdef0123456789abcdef01234567 to a/b (1 file(s))\n", sends: []string{"POST /api/prs/1/commits"}},
		{name: "close open", args: []string{"close", "1"}, stdout: "PR #1 closed; its preview is being destroyed (previewctl sandbox pr show 1)\n",
			sends: []string{"GET /api/prs/1", "POST /api/prs/1/close"}},
		{name: "close closed", args: []string{"close", "2"}, stdout: "PR #2 is already closed (preview destroyed); nothing to do\n", sends: []string{"GET /api/prs/2"}},
		{name: "close unknown", args: []string{"close", "7"}, code: 1, want: "PR not found", sends: []string{"GET /api/prs/7"}},
		{name: "close octal", args: []string{"close", "010"}, code: 2, want: `PR number "010": want a positive decimal integer without sign or leading zeros`},
		{name: "close hex", args: []string{"close", "0x10"}, code: 2, want: `PR number "0x10"`},
		{name: "show binary", args: []string{"show", "0b11"}, code: 2, want: `PR number "0b11"`},
		{name: "show 0o", args: []string{"show", "0o7"}, code: 2, want: `PR number "0o7"`},
		{name: "push underscore", args: []string{"push", "1_0", "--set", "a=1"}, code: 2, want: `PR number "1_0"`},
		{name: "push plus", args: []string{"push", "+5", "--set", "a=1"}, code: 2, want: `PR number "+5"`},
		{name: "push too large", args: []string{"push", "2147483648", "--set", "a=1"}, code: 2, want: `PR number "2147483648"`},
		{name: "unknown subcommand", args: []string{"lss"}, code: 2, want: `unknown command "lss" for "previewctl sandbox pr" (did you mean "ls"?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(api.sent())
			code, out, errs := run(t, append(append([]string{"sandbox", "pr"}, tc.args...), "--addr", addr)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d (stdout %q, stderr %q)", code, tc.code, out, errs)
			}
			if tc.code == 0 && out != tc.stdout {
				t.Errorf("stdout\n%q\nwant\n%q", out, tc.stdout)
			}
			if tc.code != 0 && (strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want)) {
				t.Errorf("stderr %q, want one line with %q", errs, tc.want)
			}
			if got := api.sent()[before:]; strings.Join(got, ", ") != strings.Join(tc.sends, ", ") {
				t.Errorf("requests %q, want %q", got, tc.sends)
			}
		})
	}
}

// TestStatusAnswers: status assembles several API answers into one view:
// --json prints it as indented JSON in StatusView's shape, lines otherwise;
// a sandbox that does not answer exits 1 naming its address.
func TestStatusAnswers(t *testing.T) {
	api := &fakeAPI{answers: map[string]string{
		"GET /api/status":                    `{"url":"http://127.0.0.1:1","s3_endpoint":"http://127.0.0.1:1/s3","bucket":"b","data_dir":"/d","environments":[]}`,
		"GET /api/spacelift/stacks":          `[]`,
		"GET /api/spacelift/runs?limit=1000": `[]`,
		"GET /api/prs":                       prList,
	}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	code, out, errs := run(t, "sandbox", "status", "--addr", addr)
	want := "sandbox     http://127.0.0.1:1\nS3 endpoint http://127.0.0.1:1/s3 (bucket b)\ndata        /d\n\nstacks: 0\n\nenvironments: 0\n\npull requests: 1\n  #1    open   a/b                      0123456 no preview\n"
	if code != 0 || out != want {
		t.Errorf("status: exit %d stderr %q stdout\n%q\nwant\n%q", code, errs, out, want)
	}

	code, out, errs = run(t, "sandbox", "status", "--json", "--addr", addr)
	var v sandbox.StatusView
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
		t.Fatalf("status --json: exit %d stderr %q stdout %q", code, errs, out)
	}
	indented, _ := json.MarshalIndent(v, "", "  ")
	if out != string(indented)+"\n" || !strings.HasPrefix(out, "{\n  \"sandbox\": {\n    \"url\": \"http://127.0.0.1:1\",") {
		t.Errorf("status --json is not StatusView indented:\n%s", out)
	}
	if v.Stacks == nil || v.Runs == nil || len(v.PRs) != 1 || v.PRs[0].HeadRef != "a/b" || !strings.Contains(out, `"stacks": [],`) {
		t.Errorf("status --json: %+v", v)
	}

	code, out, errs = run(t, "sandbox", "status", "--json", "--addr", "127.0.0.1:1")
	if code != 1 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "no sandbox answering on 127.0.0.1:1") {
		t.Errorf("status of no sandbox: exit %d stdout %q stderr %q, want 1 and one line naming the address", code, out, errs)
	}
}

package wait_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"preview-environments/previewctl/pkg/cmdtest"
)

func TestWait(t *testing.T) {
	oldV, newV := strings.Repeat("a", 40), strings.Repeat("b", 40)
	for _, tc := range []struct {
		name      string
		switchAt  int64
		timeout   string
		code      int
		stderrHas string
	}{
		{"version changes midway", 3, "10s", 0, "serving " + newV},
		{"timeout prints last response", 1 << 40, "200ms", 1, "last response (HTTP 200):\n" + oldV + ": Hello world"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				v := oldV
				if n.Add(1) >= tc.switchAt {
					v = newV
				}
				fmt.Fprintf(w, "%s: Hello world", v)
			}))
			defer srv.Close()
			r := cmdtest.Run(t, "", "wait", "--url", srv.URL, "--expect-version", newV, "--timeout", tc.timeout, "--interval", "20ms")
			if r.Code != tc.code || r.Stdout != "" || !strings.Contains(r.Stderr, tc.stderrHas) {
				t.Fatalf("code %d stdout %q stderr:\n%s", r.Code, r.Stdout, r.Stderr)
			}
			// Off a terminal, repeats of the same answer are not news: the
			// first answer, then the one that serves the version.
			if tc.code == 0 && (strings.Count(r.Stderr, "wait: attempt") != 2 || !strings.Contains(r.Stderr, fmt.Sprintf("wait: attempt %d: ", tc.switchAt)) ||
				!strings.Contains(r.Stderr, "(after ")) {
				t.Errorf("want the first and the serving attempt (%d), with the time taken:\n%s", tc.switchAt, r.Stderr)
			}
		})
	}
}

func TestWaitRefusals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--url", "file:///etc/passwd", "--expect-version", "x"}, `invalid url "file:///etc/passwd"`},
		{[]string{"--url", "http://127.0.0.1:1/"}, `invalid expect-version ""`},
		{[]string{"--url", "http://127.0.0.1:1/", "--expect-version", "x", "--timeout", "0s"}, "invalid timeout"},
		{[]string{"--url", "http://127.0.0.1:1/", "--expect-version", "x", "--timeout", "soon"}, `invalid argument "soon"`},
	} {
		r := cmdtest.Run(t, "", append([]string{"wait"}, tc.args...)...)
		if r.Code != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, tc.want) || strings.Count(r.Stderr, "\n") != 1 {
			t.Errorf("%v: code %d stderr %q", tc.args, r.Code, r.Stderr)
		}
	}
}

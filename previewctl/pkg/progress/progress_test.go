package progress

import (
	"bytes"
	"os"
	"testing"
	"time"
)

func TestStatus(t *testing.T) {
	type update struct{ key, line string }
	updates := []update{
		{"HTTP 404", "attempt 1: HTTP 404"},
		{"HTTP 404", "attempt 2: HTTP 404"},
		{"HTTP 200 old", "attempt 3: HTTP 200 old"},
		{"HTTP 200 old", "attempt 4: HTTP 200 old"},
	}
	tests := []struct {
		name string
		tty  bool
		want string
	}{
		// Off a terminal: only what is new, then the final line.
		{"log", false, "attempt 1: HTTP 404\nattempt 3: HTTP 200 old\ndone\n"},
		// On a terminal: every update rewrites the line; the final line ends it.
		{"terminal", true, "\r\033[Kattempt 1: HTTP 404\r\033[Kattempt 2: HTTP 404\r\033[Kattempt 3: HTTP 200 old" +
			"\r\033[Kattempt 4: HTTP 200 old\r\033[Kdone\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			s := NewTTY(&buf, tc.tty)
			for _, u := range updates {
				s.Update(u.key, u.line)
			}
			s.Done("done")
			if buf.String() != tc.want {
				t.Fatalf("wrote %q\nwant  %q", buf.String(), tc.want)
			}
		})
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		name string
		w    any
	}{{"buffer", &bytes.Buffer{}}, {"regular file", f}} {
		if w, ok := tc.w.(interface{ Write([]byte) (int, error) }); ok && IsTerminal(w) {
			t.Errorf("%s counts as a terminal", tc.name)
		}
	}
}

func TestSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{400 * time.Millisecond, "0.4 s"},
		{12300 * time.Millisecond, "12.3 s"},
		{125 * time.Second, "2 min 05 s"},
	} {
		if got := Seconds(tc.d); got != tc.want {
			t.Errorf("Seconds(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// TestTerminalLinesFit: a status line that wraps cannot be rewritten in
// place, so on a terminal it is cut to the width; the final line is not.
func TestTerminalLinesFit(t *testing.T) {
	t.Setenv("COLUMNS", "20")
	long := "wait: attempt 1: HTTP 404: a body much longer than twenty columns"
	for _, tc := range []struct {
		name string
		tty  bool
		want string
	}{
		{"terminal", true, "\r\033[Kwait: attempt 1: H…\r\033[K" + long + "\n"},
		{"log", false, long + "\n" + long + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			s := NewTTY(&buf, tc.tty)
			s.Update("k", long)
			s.Done(long)
			if buf.String() != tc.want {
				t.Fatalf("wrote %q\nwant  %q", buf.String(), tc.want)
			}
		})
	}
}

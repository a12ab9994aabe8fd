package cmdutil_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"preview-environments/previewctl/pkg/cmdutil"
)

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPrint(t *testing.T) {
	errLines := errors.New("lines failed")
	lines := func(w io.Writer) error { _, err := io.WriteString(w, "for people\n"); return err }
	html, _ := json.MarshalIndent(map[string]string{"url": "http://x/?a=1&b=<2>"}, "", "  ")
	for _, tc := range []struct {
		name   string
		json   bool
		v      any
		lines  func(io.Writer) error
		out    io.Writer // nil: a buffer
		stdout string
		err    string // a substring of the error; "" for none
	}{
		{name: "lines without --json", v: map[string]int{"a": 1}, lines: lines, stdout: "for people\n"},
		{name: "raw JSON byte for byte", json: true, v: json.RawMessage(`{"b":1, "a":[1,2]}`), lines: lines, stdout: `{"b":1, "a":[1,2]}`},
		{name: "a value as indented JSON and a newline", json: true, v: struct {
			A int      `json:"a"`
			B []string `json:"b"`
		}{1, []string{"x"}}, lines: lines, stdout: "{\n  \"a\": 1,\n  \"b\": [\n    \"x\"\n  ]\n}\n"},
		{name: "as json.MarshalIndent escapes", json: true, v: map[string]string{"url": "http://x/?a=1&b=<2>"}, lines: lines, stdout: string(html) + "\n"},
		{name: "an empty slice is []", json: true, v: []int{}, lines: lines, stdout: "[]\n"},
		{name: "the lines' error", v: 1, lines: func(io.Writer) error { return errLines }, err: "lines failed"},
		{name: "a value JSON cannot hold", json: true, v: math.Inf(1), lines: lines, err: "printing JSON: json: unsupported value: +Inf"},
		{name: "a failed write of raw JSON", json: true, v: json.RawMessage(`[]`), lines: lines, out: failWriter{}, err: "disk full"},
		{name: "a failed write of a value", json: true, v: []int{}, lines: lines, out: failWriter{}, err: "printing JSON: disk full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			out := tc.out
			if out == nil {
				out = &buf
			}
			err := cmdutil.Print(out, tc.json, tc.v, tc.lines)
			if tc.err == "" && err != nil || tc.err != "" && !strings.Contains(errString(err), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			if buf.String() != tc.stdout {
				t.Errorf("stdout %q, want %q", buf.String(), tc.stdout)
			}
		})
	}
}

func TestNow(t *testing.T) {
	before := time.Now()
	for _, tc := range []struct {
		flag string
		want time.Time // zero: the clock
		code int
		err  string
	}{
		{flag: ""},
		{flag: "2026-11-28T05:00:00Z", want: time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)},
		{flag: "2026-11-28T07:00:00+02:00", want: time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)},
		{flag: "2026-11-28", code: 2, err: `invalid now "2026-11-28": not an RFC 3339 time`},
		{flag: "yesterday", code: 2, err: `invalid now "yesterday": not an RFC 3339 time`},
	} {
		got, err := cmdutil.Now(tc.flag)
		if errString(err) != tc.err || cmdutil.ExitCode(err) != tc.code {
			t.Errorf("Now(%q): error %v (exit %d), want %q (exit %d)", tc.flag, err, cmdutil.ExitCode(err), tc.err, tc.code)
			continue
		}
		switch {
		case err != nil:
		case got.Location() != time.UTC:
			t.Errorf("Now(%q) = %v, want UTC", tc.flag, got)
		case tc.want.IsZero() && (got.Before(before.Truncate(time.Second)) || got.After(time.Now())):
			t.Errorf("Now(%q) = %v, want the clock", tc.flag, got)
		case !tc.want.IsZero() && !got.Equal(tc.want):
			t.Errorf("Now(%q) = %v, want %v", tc.flag, got, tc.want)
		}
	}
}

func TestAppendOutputs(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		file  string
		calls [][]string
		want  string // the file's content; "-" for no file
		err   string // a substring of the last call's error
	}{
		{name: "lines appended call after call", file: "a", calls: [][]string{{"id=1", "name=x"}, {"id=2"}}, want: "id=1\nname=x\nid=2\n"},
		{name: "a newline refused, naming the line, nothing written", file: "b", calls: [][]string{{"id=1", "name=x\nid=evil"}},
			want: "-", err: `output "name=x\nid=evil" holds a newline`},
		{name: "a carriage return refused", file: "c", calls: [][]string{{"name=x\r"}}, want: "-", err: `output "name=x\r" holds a newline`},
		{name: "no such directory: named", file: "nodir/out", calls: [][]string{{"id=1"}}, want: "-", err: "github output: open " + filepath.Join(dir, "nodir/out")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.file)
			var err error
			for _, lines := range tc.calls {
				err = cmdutil.AppendOutputs(file, lines)
			}
			if tc.err == "" && err != nil || tc.err != "" && !strings.Contains(errString(err), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			if tc.err != "" && cmdutil.ExitCode(err) != 1 {
				t.Errorf("exit %d, want 1", cmdutil.ExitCode(err))
			}
			got, rerr := os.ReadFile(file)
			switch {
			case tc.want == "-" && !errors.Is(rerr, os.ErrNotExist):
				t.Errorf("file written: %q %v", got, rerr)
			case tc.want != "-" && string(got) != tc.want:
				t.Errorf("file %q, want %q", got, tc.want)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("failed"), 1},
		{cmdutil.Invalid(errors.New("bad input")), 2},
		{fmt.Errorf("wrapped: %w", cmdutil.Invalid(errors.New("bad input"))), 2},
		{&cmdutil.ExitError{Code: 3, Err: errors.New("other")}, 3},
	} {
		if got := cmdutil.ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

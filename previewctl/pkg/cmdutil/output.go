package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Print writes a command's answer on out: with asJSON (the --json flag) v
// as JSON for scripts, else the lines for people. JSON already encoded
// (json.RawMessage: an API's answer) is written byte for byte, so scripts
// get every field in the API's shape; any other v is indented JSON ending
// in a newline.
func Print(out io.Writer, asJSON bool, v any, lines func(io.Writer) error) error {
	if !asJSON {
		return lines(out)
	}
	if raw, ok := v.(json.RawMessage); ok {
		_, err := out.Write(raw)
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("printing JSON: %w", err)
	}
	return nil
}

// Now is the time a command acts as of: the hidden --now flag's RFC 3339
// value when given (tests and reproducible output), else the clock; in UTC
// either way. A malformed value is refused input naming it (exit 2).
func Now(flag string) (time.Time, error) {
	if flag == "" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, flag)
	if err != nil {
		return time.Time{}, Invalid(fmt.Errorf("invalid now %q: not an RFC 3339 time", flag))
	}
	return t.UTC(), nil
}

// AppendOutputs appends step outputs ("key=value" lines) to file in
// $GITHUB_OUTPUT form. A line holding a newline could forge another output:
// it is refused, naming it, before the file is touched.
func AppendOutputs(file string, lines []string) error {
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			return fmt.Errorf("output %q holds a newline", l)
		}
	}
	fh, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("github output: %w", err)
	}
	if _, err := fh.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		fh.Close()
		return fmt.Errorf("github output: %w", err)
	}
	return fh.Close()
}

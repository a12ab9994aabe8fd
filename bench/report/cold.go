package report

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// ColdRecord is the last `make bench-cold` measurement, which make bench
// carries forward (bench/cold-test.txt, written by bench/cold-test.sh).
type ColdRecord struct {
	Date    string // RFC 3339, UTC
	Commit  string
	Seconds float64
	Exit    int
	Load    string // 1-minute load average before the run
	Failed  string // the first failed tests, when make test failed
}

// ReadCold reads the record; a missing file is (nil, nil): never measured.
func ReadCold(path string) (*ColdRecord, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read cold-cache record: %w", err)
	}
	defer f.Close()
	var c ColdRecord
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("cold-cache record %s: line %q is not key: value", path, line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		seen[k] = true
		switch k {
		case "date":
			c.Date = v
		case "commit":
			c.Commit = v
		case "load":
			c.Load = v
		case "failed":
			c.Failed = v
		case "seconds":
			if c.Seconds, err = strconv.ParseFloat(v, 64); err != nil || c.Seconds < 0 {
				return nil, fmt.Errorf("cold-cache record %s: seconds %q is not a duration in seconds", path, v)
			}
		case "exit":
			if c.Exit, err = strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("cold-cache record %s: exit %q is not an exit status", path, v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read cold-cache record: %w", err)
	}
	for _, k := range []string{"date", "commit", "seconds", "exit"} {
		if !seen[k] {
			return nil, fmt.Errorf("cold-cache record %s: no %s line", path, k)
		}
	}
	return &c, nil
}

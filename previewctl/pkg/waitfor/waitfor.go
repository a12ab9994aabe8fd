// Package waitfor polls a URL until its body carries an expected version:
// the signal that an environment serves the PR head, before anything is
// posted to the PR.
package waitfor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// MaxBody bounds how much of each response is read and kept.
const MaxBody = 64 << 10

// Options configure Version.
type Options struct {
	URL      string
	Expect   string
	Interval time.Duration
	// Client defaults to a client with a per-request timeout of Interval
	// (at least 5s), so one hung request cannot eat the whole budget.
	Client *http.Client
	// Progress, if set, gets one line per attempt.
	Progress io.Writer
	// Accept is sent as the Accept header ("" sends none).
	Accept string
}

// Response is the last answer seen.
type Response struct {
	Attempt int
	Status  int    // 0 when the request failed
	Body    string // at most MaxBody bytes
	Err     error  // transport error, if any
}

func (r Response) String() string {
	if r.Err != nil {
		return fmt.Sprintf("attempt %d: %v", r.Attempt, r.Err)
	}
	return fmt.Sprintf("attempt %d: HTTP %d: %s", r.Attempt, r.Status, oneLine(r.Body, 300))
}

// ErrTimeout is returned when ctx ends before the version was served.
var ErrTimeout = errors.New("timed out waiting for the expected version")

// Version polls until a 2xx response body contains opts.Expect, or ctx is
// done. It returns the last response either way.
func Version(ctx context.Context, opts Options) (Response, error) {
	if opts.URL == "" || opts.Expect == "" {
		return Response{}, errors.New("waitfor: URL and expected version are required")
	}
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: max(opts.Interval, 5*time.Second)}
	}
	var last Response
	for attempt := 1; ; attempt++ {
		r := get(ctx, client, opts, attempt)
		if r.Err != nil && ctx.Err() != nil && attempt > 1 {
			// The deadline cut this attempt short: it says nothing about
			// the server, so the last answer is the one before it.
			return last, fmt.Errorf("%w %q at %s after %d attempts (last: %s)", ErrTimeout, opts.Expect, opts.URL, attempt-1, last)
		}
		last = r
		ok := last.Err == nil && last.Status/100 == 2 && strings.Contains(last.Body, opts.Expect)
		if opts.Progress != nil {
			verdict := "not yet"
			if ok {
				verdict = "serving " + opts.Expect
			}
			fmt.Fprintf(opts.Progress, "wait: %s: %s\n", last, verdict)
		}
		if ok {
			return last, nil
		}
		t := time.NewTimer(opts.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return last, fmt.Errorf("%w %q at %s after %d attempts (last: %s)", ErrTimeout, opts.Expect, opts.URL, attempt, last)
		case <-t.C:
		}
	}
}

func get(ctx context.Context, client *http.Client, opts Options, attempt int) Response {
	r := Response{Attempt: attempt}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, opts.URL, nil)
	if err != nil {
		r.Err = err
		return r
	}
	if opts.Accept != "" {
		req.Header.Set("Accept", opts.Accept)
	}
	resp, err := client.Do(req)
	if err != nil {
		r.Err = err
		return r
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	r.Status, r.Body = resp.StatusCode, string(body)
	if err != nil {
		r.Err = fmt.Errorf("reading body: %w", err)
	}
	return r
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

// Package wait is `previewctl wait`: block until an environment serves a
// version.
package wait

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/progress"
	"preview-environments/previewctl/pkg/waitfor"
)

// New returns the wait command.
func New() *cobra.Command {
	var rawURL, expect, accept string
	var timeout, interval time.Duration
	cmd := &cobra.Command{
		Use:   "wait --url URL --expect-version V [--timeout D] [--interval D]",
		Short: "Poll a URL until its body carries the expected version",
		Long: `Poll URL until a 2xx response body contains the expected version, then
exit 0. Progress goes to stderr: on a terminal one status line updated on
every attempt; elsewhere (CI logs) a line only when the answer changes, and
a last line with how long it took. On timeout exit 1 and print the last
response.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := url.Parse(rawURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return cmdutil.Invalid(fmt.Errorf("invalid url %q: want an absolute http(s) URL", rawURL))
			}
			if expect == "" {
				return cmdutil.Invalid(errors.New(`invalid expect-version "": --expect-version is required`))
			}
			if timeout <= 0 || interval <= 0 {
				return cmdutil.Invalid(fmt.Errorf("invalid timeout %s / interval %s: both must be positive", timeout, interval))
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			status := &statusLines{st: progress.New(cmd.ErrOrStderr()), expect: expect}
			last, err := waitfor.Version(ctx, waitfor.Options{URL: rawURL, Expect: expect, Interval: interval, Progress: status, Accept: accept})
			status.st.Break()
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "wait: gave up after %s\n", progress.Seconds(status.st.Elapsed()))
				if last.Status == 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "no response: %v\n", last.Err)
				} else {
					fmt.Fprintf(cmd.ErrOrStderr(), "last response (HTTP %d):\n%s\n", last.Status, last.Body)
				}
				return err
			}
			return nil
		},
	}
	cmdutil.InvalidFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&rawURL, "url", "", "URL to poll")
	f.StringVar(&expect, "expect-version", "", "text the body must contain (the code version)")
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long")
	f.DurationVar(&interval, "interval", 5*time.Second, "time between attempts")
	f.StringVar(&accept, "accept", "", "Accept header to send")
	return cmd
}

// statusLines turns waitfor's line per attempt into a status: the attempt
// number alone is not news, so it does not make a new line in a CI log.
type statusLines struct {
	st     *progress.Status
	expect string
	buf    []byte
}

var attemptRE = regexp.MustCompile(`^wait: attempt \d+: `)

func (w *statusLines) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		took := progress.Seconds(w.st.Elapsed())
		if strings.HasSuffix(line, ": serving "+w.expect) {
			w.st.Done(line + " (after " + took + ")")
			continue
		}
		// The time goes first: a terminal cuts a long body off the end.
		shown := attemptRE.ReplaceAllStringFunc(line, func(p string) string {
			return strings.TrimSuffix(p, ": ") + " (" + took + "): "
		})
		w.st.Update(attemptRE.ReplaceAllString(line, ""), shown)
	}
}

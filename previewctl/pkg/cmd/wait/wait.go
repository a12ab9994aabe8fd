// Package wait is `previewctl wait`: block until an environment serves a
// version.
package wait

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/waitfor"
)

// New returns the wait command.
func New() *cobra.Command {
	var rawURL, expect, accept string
	var timeout, interval time.Duration
	cmd := &cobra.Command{
		Use:   "wait --url URL --expect-version V [--timeout D] [--interval D]",
		Short: "Poll a URL until its body carries the expected version",
		Long: `Poll URL until a 2xx response body contains the expected version, with
one progress line per attempt on stderr, then exit 0. On timeout exit 1
and print the last response.`,
		Args: cobra.NoArgs,
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
			last, err := waitfor.Version(ctx, waitfor.Options{URL: rawURL, Expect: expect, Interval: interval, Progress: cmd.ErrOrStderr(), Accept: accept})
			if err != nil {
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

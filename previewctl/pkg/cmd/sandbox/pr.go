package sandbox

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	"preview-environments/previewctl/pkg/envfile"
	"preview-environments/previewctl/pkg/sandbox/githost"
	"preview-environments/previewctl/pkg/sandbox/platform"
)

// maxFile keeps a request under the API's 8 MiB body limit with room for
// JSON escaping.
const maxFile = 4 << 20

// changeFlags are the file flags of `pr open` and `pr push`.
type changeFlags struct {
	set, file, del []string
	wait           time.Duration
}

func (f *changeFlags) register(cmd *cobra.Command) {
	// StringArray, not StringSlice: contents may hold commas.
	cmd.Flags().StringArrayVar(&f.set, "set", nil, "PATH=CONTENT: write CONTENT (literal text) to PATH (repeatable)")
	cmd.Flags().StringArrayVar(&f.file, "file", nil, "PATH=LOCALFILE: write the local file's content to PATH (repeatable)")
	cmd.Flags().StringArrayVar(&f.del, "delete", nil, "PATH: delete PATH (repeatable)")
	cmd.Flags().DurationVar(&f.wait, "wait", 0, "wait up to this long for the preview to go live at the new head (exit 1 with its CI log if it fails or times out)")
}

// changes turns the flags into the API's files map (nil deletes). Every
// error names its flag and is refused input.
func (f *changeFlags) changes() (map[string]*string, error) {
	out := map[string]*string{}
	add := func(flag, path string, content *string) error {
		if err := githost.ValidatePath(path); err != nil {
			return fmt.Errorf("%s %q: %w", flag, path, err)
		}
		if _, dup := out[path]; dup {
			return fmt.Errorf("%s: path %q is changed twice (--set, --file and --delete must name different paths)", flag, path)
		}
		out[path] = content
		return nil
	}
	for _, v := range f.set {
		path, content, ok := strings.Cut(v, "=")
		if !ok {
			return nil, cmdutil.Invalid(fmt.Errorf("--set %q: want PATH=CONTENT", v))
		}
		if err := add("--set", path, &content); err != nil {
			return nil, cmdutil.Invalid(err)
		}
	}
	for _, v := range f.file {
		path, local, ok := strings.Cut(v, "=")
		if !ok || local == "" {
			return nil, cmdutil.Invalid(fmt.Errorf("--file %q: want PATH=LOCALFILE", v))
		}
		content, err := readLocal(local)
		if err != nil {
			return nil, cmdutil.Invalid(fmt.Errorf("--file %q: %w", v, err))
		}
		if err := add("--file", path, &content); err != nil {
			return nil, cmdutil.Invalid(err)
		}
	}
	for _, path := range f.del {
		if err := add("--delete", path, nil); err != nil {
			return nil, cmdutil.Invalid(err)
		}
	}
	if len(out) == 0 {
		return nil, cmdutil.Invalid(fmt.Errorf("no change given: pass at least one --set, --file or --delete"))
	}
	if f.wait < 0 {
		return nil, cmdutil.Invalid(fmt.Errorf("--wait %s: want a positive duration (or 0, not to wait)", f.wait))
	}
	return out, nil
}

// readLocal reads a regular file the API can carry: UTF-8 text (JSON
// strings would silently mangle other bytes), at most maxFile bytes.
func readLocal(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > maxFile {
		return "", fmt.Errorf("%s is %d bytes, more than the %d the sandbox API takes", path, fi.Size(), maxFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%s is not UTF-8 text (the PR API carries text files only)", path)
	}
	return string(b), nil
}

// oneArg refuses a wrong argument count as invalid input (exit 2).
func oneArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return cmdutil.Invalid(fmt.Errorf("%s: want one argument, the PR number; got %d", cmd.CommandPath(), len(args)))
	}
	return nil
}

// prNumber reads a PR number argument in envfile.ParsePR's decimal form
// only: strconv.Atoi would take "+5" and "010" for PRs 5 and 10.
func prNumber(arg string) (int, error) {
	n, err := envfile.ParsePR(arg)
	if err != nil {
		return 0, cmdutil.Invalid(fmt.Errorf("PR number %q: want a positive decimal integer without sign or leading zeros", arg))
	}
	return n, nil
}

// prRequest is the body of POST /api/prs and /api/prs/{n}/commits.
type prRequest struct {
	Branch  string             `json:"branch,omitempty"`
	Title   string             `json:"title,omitempty"`
	Message string             `json:"message,omitempty"`
	Files   map[string]*string `json:"files"`
}

// prDetail is GET /api/prs/{n}.
type prDetail struct {
	platform.PRView
	CILog []platform.CILine `json:"ci_log"`
}

func newPR() *cobra.Command {
	return apiGroup(&cobra.Command{
		Use:   "pr",
		Short: "Open, push to, close, list and show pull requests on a running sandbox",
		Long: `pr drives the pull requests of a running sandbox (` + "`previewctl sandbox up`" + `).
Opening or pushing to a PR runs the CI steps (build when service/ changed,
render, write the environment file), then the manager and environment stacks
deploy it; closing a PR destroys its environment. Watch it with
` + "`previewctl sandbox pr show N`" + ` or ` + "`previewctl sandbox status`" + `.`,
	}, newPROpen, newPRPush, newPRClose, newPRList, newPRShow)
}

func newPROpen(client func() *client) *cobra.Command {
	var branch, title string
	var files changeFlags
	cmd := &cobra.Command{
		Use:   "open --branch B [--title T] [--set PATH=CONTENT]... [--file PATH=LOCALFILE]... [--delete PATH]...",
		Short: "Commit the changes on a new branch B and open a PR from it into main",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if branch == "" {
				return cmdutil.Invalid(fmt.Errorf("--branch is required"))
			}
			if err := githost.ValidateBranch(branch); err != nil {
				return cmdutil.Invalid(fmt.Errorf("--branch %q: %w", branch, err))
			}
			if strings.ContainsFunc(title, isControl) {
				return cmdutil.Invalid(fmt.Errorf("--title %q: control characters are not allowed", title))
			}
			ch, err := files.changes()
			if err != nil {
				return err
			}
			c := client()
			// The platform commits before it opens the PR: on a branch that
			// already has an open PR that commit would land as a push to it.
			var prs []platform.PRView
			if _, err := c.do(cmd.Context(), http.MethodGet, "/api/prs", nil, &prs); err != nil {
				return err
			}
			for _, pr := range prs {
				if pr.HeadRef == branch && pr.State == githost.StateOpen {
					return fmt.Errorf("--branch %q already has open PR #%d: push to it with `previewctl sandbox pr push %d`", branch, pr.Number, pr.Number)
				}
			}
			return answer(cmd, c, false, http.MethodPost, "/api/prs", prRequest{Branch: branch, Title: title, Files: ch}, func(out io.Writer, pr githost.PR) error {
				fmt.Fprintf(out, "PR #%d opened from %s at %s (%d file(s)); follow it with: previewctl sandbox pr show %d\n",
					pr.Number, pr.HeadRef, pr.HeadSHA, len(ch), pr.Number)
				return waitLive(cmd, c, pr, files.wait)
			})
		},
	}
	cmd.Flags().StringVar(&branch, "branch", "", "the new branch to commit to and open the PR from (required)")
	cmd.Flags().StringVar(&title, "title", "", "the PR's title (default \"Change <branch>\")")
	files.register(cmd)
	return cmd
}

func newPRPush(client func() *client) *cobra.Command {
	var message string
	var files changeFlags
	cmd := &cobra.Command{
		Use:   "push N [--message M] [--set PATH=CONTENT]... [--file PATH=LOCALFILE]... [--delete PATH]...",
		Short: "Commit the changes on PR N's branch (a synchronize event: the preview redeploys)",
		Args:  oneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := prNumber(args[0])
			if err != nil {
				return err
			}
			if strings.ContainsFunc(message, func(r rune) bool { return isControl(r) && r != '\n' && r != '\t' }) {
				return cmdutil.Invalid(fmt.Errorf("--message %q: control characters are not allowed", message))
			}
			ch, err := files.changes()
			if err != nil {
				return err
			}
			c := client()
			return answer(cmd, c, false, http.MethodPost, fmt.Sprintf("/api/prs/%d/commits", n), prRequest{Message: message, Files: ch}, func(out io.Writer, pr githost.PR) error {
				fmt.Fprintf(out, "PR #%d: pushed %s to %s (%d file(s))\n", pr.Number, pr.HeadSHA, pr.HeadRef, len(ch))
				return waitLive(cmd, c, pr, files.wait)
			})
		},
	}
	cmd.Flags().StringVar(&message, "message", "", "the commit message (default \"Update\")")
	files.register(cmd)
	return cmd
}

func newPRClose(client func() *client) *cobra.Command {
	return &cobra.Command{
		Use:   "close N",
		Short: "Close PR N (its preview environment is destroyed)",
		Args:  oneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := prNumber(args[0])
			if err != nil {
				return err
			}
			c := client()
			// Closing a closed PR changes nothing and starts no destroy, so
			// it must not say one is under way (nor fail: like gh pr close,
			// the PR ends up closed either way).
			var d prDetail
			if _, err := c.do(cmd.Context(), http.MethodGet, fmt.Sprintf("/api/prs/%d", n), nil, &d); err != nil {
				return err
			}
			if d.State == githost.StateClosed {
				preview := "no preview"
				if d.Preview != nil {
					preview = "preview " + d.Preview.State
				}
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "PR #%d is already closed (%s); nothing to do\n", n, preview)
				return err
			}
			return answer(cmd, c, false, http.MethodPost, fmt.Sprintf("/api/prs/%d/close", n), struct{}{}, func(out io.Writer, pr githost.PR) error {
				_, err := fmt.Fprintf(out, "PR #%d closed; its preview is being destroyed (previewctl sandbox pr show %d)\n", pr.Number, pr.Number)
				return err
			})
		},
	}
}

func newPRList(client func() *client) *cobra.Command {
	return newList(client, "List PRs with their preview's state and URL", "/api/prs", "no pull requests", prLine)
}

func newPRShow(client func() *client) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show N",
		Short: "Show PR N, its preview and its CI log",
		Args:  oneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := prNumber(args[0])
			if err != nil {
				return err
			}
			return answer(cmd, client(), asJSON, http.MethodGet, fmt.Sprintf("/api/prs/%d", n), nil, func(out io.Writer, d prDetail) error {
				printPR(out, d)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printPR(out io.Writer, d prDetail) {
	fmt.Fprintf(out, "PR #%d %q (%s)\nhead    %s at %s\n", d.Number, d.Title, d.State, d.HeadRef, d.HeadSHA)
	if pv := d.Preview; pv != nil {
		fmt.Fprintf(out, "preview %s, environment %s, code_version %s\nURL     %s\n        %s\n", pv.State, pv.EnvironmentID, pv.Version, pv.URL, pv.Comment)
	} else {
		fmt.Fprintln(out, "preview none yet")
	}
	fmt.Fprintln(out, "CI log:")
	if len(d.CILog) == 0 {
		fmt.Fprintln(out, "  (empty)")
	}
	for _, l := range d.CILog {
		fmt.Fprintf(out, "  %s %s\n", l.At.Local().Format("15:04:05.000"), l.Line)
	}
}

// waitLive polls the PR until its preview is live at pr's head (0 does not
// wait). A failed preview or the time running out exits 1 with the CI log.
func waitLive(cmd *cobra.Command, c *client, pr githost.PR, wait time.Duration) error {
	if wait == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), wait)
	defer cancel()
	var d prDetail
	for {
		d = prDetail{}
		if _, err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/prs/%d", pr.Number), nil, &d); err != nil && ctx.Err() == nil {
			return err
		}
		if pv := d.Preview; pv != nil && pv.HeadSHA == pr.HeadSHA {
			switch pv.State {
			case platform.PreviewLive:
				fmt.Fprintf(cmd.OutOrStdout(), "PR #%d: preview live at %s\n", pr.Number, pv.URL)
				return nil
			case platform.PreviewFailed:
				printPR(cmd.ErrOrStderr(), d)
				return fmt.Errorf("PR #%d: preview failed: %s", pr.Number, pv.Comment)
			}
		}
		select {
		case <-ctx.Done():
			printPR(cmd.ErrOrStderr(), d)
			return fmt.Errorf("PR #%d: preview not live at %s after --wait %s", pr.Number, pr.HeadSHA, wait)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"preview-environments/previewctl/pkg/cmdutil"
	sb "preview-environments/previewctl/pkg/sandbox"
)

// client talks to a running sandbox's JSON API.
type client struct {
	addr string
	http *http.Client
}

func newClient(addr string) *client {
	return &client{addr: addr, http: &http.Client{Timeout: 60 * time.Second}}
}

// errNotServed is a 404 on an API path: the sandbox does not mount it (a
// data plane without the platform).
var errNotServed = errors.New("not served by this sandbox")

// do sends a JSON request and decodes a JSON answer into out (when not
// nil), returning the raw body too. A 400 is the caller's input (exit 2);
// other non-2xx answers are errors carrying the server's message.
func (c *client) do(ctx context.Context, method, path string, in, out any) ([]byte, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.addr+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("no sandbox answering on %s (start one with `previewctl sandbox up`): %w", c.addr, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("sandbox on %s: %s %s: %w", c.addr, method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		msg := resp.Status
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		switch resp.StatusCode {
		case http.StatusBadRequest:
			return raw, cmdutil.Invalid(fmt.Errorf("sandbox refused the request: %s", msg))
		case http.StatusNotFound:
			if e.Error == "" {
				return raw, fmt.Errorf("sandbox on %s: %s %s: %w", c.addr, method, path, errNotServed)
			}
		}
		return raw, fmt.Errorf("sandbox on %s: %s %s: %s", c.addr, method, path, msg)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return raw, fmt.Errorf("sandbox on %s: %s %s: decode: %w", c.addr, method, path, err)
		}
	}
	return raw, nil
}

// apiGroup completes a group of commands that drive a running sandbox's API
// (pr, env): the --addr of the sandbox, refused unless loopback before any
// subcommand runs, and each subcommand's client for it.
func apiGroup(cmd *cobra.Command, subs ...func(client func() *client) *cobra.Command) *cobra.Command {
	var addr string
	cmd.PersistentPreRunE = func(*cobra.Command, []string) error {
		if err := sb.CheckLoopback(addr, "--addr"); err != nil {
			return cmdutil.Invalid(err)
		}
		return nil
	}
	cmd.PersistentFlags().StringVar(&addr, "addr", sb.DefaultAddr, "address of the running sandbox (loopback only)")
	client := func() *client { return newClient(addr) }
	for _, sub := range subs {
		cmd.AddCommand(sub(client))
	}
	cmdutil.InvalidFlags(cmd) // the subcommands inherit it
	return cmd
}

// answer is the body of the API commands: one call to the running sandbox,
// then its answer on stdout, with asJSON the JSON as the API sent it, else
// the lines for people.
func answer[T any](cmd *cobra.Command, c *client, asJSON bool, method, path string, body any, lines func(io.Writer, T) error) error {
	var v T
	raw, err := c.do(cmd.Context(), method, path, body, &v)
	if err != nil {
		return err
	}
	return cmdutil.Print(cmd.OutOrStdout(), asJSON, json.RawMessage(raw), func(out io.Writer) error { return lines(out, v) })
}

// newList is an ls subcommand: GET path, then with --json the API's JSON,
// else a line per item, or none when there is none.
func newList[T any](client func() *client, short, path, none string, line func(T) string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: short,
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return answer(cmd, client(), asJSON, http.MethodGet, path, nil, func(out io.Writer, items []T) error {
				if len(items) == 0 {
					_, err := fmt.Fprintln(out, none)
					return err
				}
				for _, it := range items {
					if _, err := fmt.Fprintln(out, line(it)); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

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

	"preview-environments/previewctl/pkg/cmdutil"
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

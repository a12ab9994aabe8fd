package platform

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"preview-environments/previewctl/internal/sandbox/ci"
)

// The CI steps and their records are in previewctl/internal/sandbox/ci;
// these names keep them where the demo, the CLI, the dashboard's tests and
// test/e2e (another module, which cannot import an internal package) use
// them.

// Preview states, as the PR's deployment status and sticky comment show them.
const (
	PreviewBuilding   = ci.PreviewBuilding
	PreviewRendering  = ci.PreviewRendering
	PreviewDeploying  = ci.PreviewDeploying
	PreviewLive       = ci.PreviewLive
	PreviewFailed     = ci.PreviewFailed
	PreviewDestroying = ci.PreviewDestroying
	PreviewDestroyed  = ci.PreviewDestroyed
)

// Preview is a PR's preview as its deployment status and sticky comment
// describe it.
type Preview = ci.Preview

// CILine is one line of the CI emulation's log for a PR.
type CILine = ci.Line

// Previews lists every PR's preview.
func (p *Platform) Previews(ctx context.Context) ([]Preview, error) { return p.ci.Previews(ctx) }

// Preview returns one PR's preview (githost.ErrNotFound when it has none).
func (p *Platform) Preview(ctx context.Context, number int) (Preview, error) {
	return p.ci.Preview(ctx, number)
}

// CILog returns the CI emulation's log for a PR.
func (p *Platform) CILog(ctx context.Context, number int) ([]CILine, error) {
	return p.ci.Log(ctx, number)
}

// LocalhostClient is an HTTP client that reaches <anything>.localhost on
// the sandbox's address, as browsers and curl resolve *.localhost to
// loopback; Go's resolver does not.
func LocalhostClient(addr string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(a)
		if err == nil && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
			_, sbPort, _ := net.SplitHostPort(addr)
			if port == sbPort {
				a = addr
			}
		}
		return d.DialContext(ctx, network, a)
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

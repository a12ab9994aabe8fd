package ci

import (
	"context"
	"fmt"
	"time"

	"preview-environments/previewctl/pkg/sandbox/githost"
)

// Preview states, as the PR's deployment status and sticky comment show them.
const (
	PreviewBuilding   = "building"
	PreviewRendering  = "rendering"
	PreviewDeploying  = "deploying"
	PreviewLive       = "live"
	PreviewFailed     = "failed"
	PreviewDestroying = "destroying"
	PreviewDestroyed  = "destroyed"
)

var migrations = []string{
	`CREATE TABLE platform_previews (
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		number INTEGER NOT NULL,
		environment_id TEXT NOT NULL,
		state TEXT NOT NULL,
		version TEXT NOT NULL DEFAULT '',
		head_sha TEXT NOT NULL DEFAULT '',
		url TEXT NOT NULL DEFAULT '',
		comment TEXT NOT NULL DEFAULT '',
		updated_at INTEGER NOT NULL,
		PRIMARY KEY (owner, repo, number)
	);
	CREATE TABLE platform_ci_log (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		owner TEXT NOT NULL,
		repo TEXT NOT NULL,
		number INTEGER NOT NULL,
		at INTEGER NOT NULL,
		line TEXT NOT NULL
	);`,
}

// Preview is a PR's preview as its deployment status and sticky comment
// describe it.
type Preview struct {
	Owner         string    `json:"owner"`
	Repo          string    `json:"repo"`
	Number        int       `json:"number"`
	EnvironmentID string    `json:"environment_id"`
	State         string    `json:"state"`
	Version       string    `json:"version"`
	HeadSHA       string    `json:"head_sha"`
	URL           string    `json:"url"`
	Comment       string    `json:"comment"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Line is one line of the CI emulation's log for a PR.
type Line struct {
	At   time.Time `json:"at"`
	Line string    `json:"line"`
}

func (c *CI) logf(ctx context.Context, number int, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	_, err := c.deps.DB.ExecContext(context.WithoutCancel(ctx), `INSERT INTO platform_ci_log (owner, repo, number, at, line) VALUES (?,?,?,?,?)`,
		c.cfg.Owner, c.cfg.Repo, number, c.deps.Now().UnixMilli(), line)
	if err != nil {
		c.deps.Log.Warn("ci log", "err", err)
	}
	c.deps.Log.Info("ci", "pr", number, "line", line)
}

func (c *CI) setPreview(ctx context.Context, pr githost.PR, id, st, version, url, comment string) {
	_, err := c.deps.DB.ExecContext(context.WithoutCancel(ctx), `INSERT INTO platform_previews
		(owner, repo, number, environment_id, state, version, head_sha, url, comment, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(owner, repo, number) DO UPDATE SET environment_id=excluded.environment_id, state=excluded.state,
		version=excluded.version, head_sha=excluded.head_sha, url=excluded.url, comment=excluded.comment, updated_at=excluded.updated_at`,
		pr.Owner, pr.Repo, pr.Number, id, st, version, pr.HeadSHA, url, comment, c.deps.Now().UnixMilli())
	if err != nil {
		c.deps.Log.Warn("preview status", "err", err)
	}
}

// Previews lists every PR's preview.
func (c *CI) Previews(ctx context.Context) ([]Preview, error) {
	rows, err := c.deps.DB.QueryContext(ctx, `SELECT owner, repo, number, environment_id, state, version, head_sha, url, comment, updated_at
		FROM platform_previews ORDER BY number`)
	if err != nil {
		return nil, fmt.Errorf("list previews: %w", err)
	}
	defer rows.Close()
	var out []Preview
	for rows.Next() {
		var pv Preview
		var at int64
		if err := rows.Scan(&pv.Owner, &pv.Repo, &pv.Number, &pv.EnvironmentID, &pv.State, &pv.Version, &pv.HeadSHA,
			&pv.URL, &pv.Comment, &at); err != nil {
			return nil, fmt.Errorf("list previews: %w", err)
		}
		pv.UpdatedAt = time.UnixMilli(at).UTC()
		out = append(out, pv)
	}
	return out, rows.Err()
}

// Preview returns one PR's preview (githost.ErrNotFound when it has none).
func (c *CI) Preview(ctx context.Context, number int) (Preview, error) {
	all, err := c.Previews(ctx)
	if err != nil {
		return Preview{}, err
	}
	for _, pv := range all {
		if pv.Number == number {
			return pv, nil
		}
	}
	return Preview{}, fmt.Errorf("PR #%d has no preview: %w", number, githost.ErrNotFound)
}

// Log returns the CI emulation's log for a PR.
func (c *CI) Log(ctx context.Context, number int) ([]Line, error) {
	rows, err := c.deps.DB.QueryContext(ctx, `SELECT at, line FROM platform_ci_log WHERE owner = ? AND repo = ? AND number = ? ORDER BY seq`,
		c.cfg.Owner, c.cfg.Repo, number)
	if err != nil {
		return nil, fmt.Errorf("read CI log of PR #%d: %w", number, err)
	}
	defer rows.Close()
	var out []Line
	for rows.Next() {
		var l Line
		var at int64
		if err := rows.Scan(&at, &l.Line); err != nil {
			return nil, err
		}
		l.At = time.UnixMilli(at).UTC()
		out = append(out, l)
	}
	return out, rows.Err()
}

package githost

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PR states.
const (
	StateOpen   = "open"
	StateClosed = "closed"
)

// PR is a pull request within one repository (head and base are branches of
// the same repository).
type PR struct {
	Owner     string
	Repo      string
	Number    int
	Title     string
	HeadRef   string
	HeadSHA   string
	BaseRef   string
	State     string // StateOpen or StateClosed
	Merged    bool   // always false: the sandbox does not merge
	CreatedAt time.Time
	UpdatedAt time.Time
	ClosedAt  time.Time // zero while open
}

const prColumns = `number, title, head_ref, head_sha, base_ref, state, merged, created_at, updated_at, closed_at`

type rowScanner interface{ Scan(...any) error }

func scanPR(r *repoRef, row rowScanner) (PR, error) {
	p := PR{Owner: r.owner, Repo: r.name}
	var created, updated string
	var closed sql.NullString
	if err := row.Scan(&p.Number, &p.Title, &p.HeadRef, &p.HeadSHA, &p.BaseRef, &p.State, &p.Merged,
		&created, &updated, &closed); err != nil {
		return PR{}, err
	}
	var err error
	if p.CreatedAt, err = time.Parse(time.RFC3339, created); err != nil {
		return PR{}, fmt.Errorf("pull request %d: created_at: %w", p.Number, err)
	}
	if p.UpdatedAt, err = time.Parse(time.RFC3339, updated); err != nil {
		return PR{}, fmt.Errorf("pull request %d: updated_at: %w", p.Number, err)
	}
	if closed.Valid {
		if p.ClosedAt, err = time.Parse(time.RFC3339, closed.String); err != nil {
			return PR{}, fmt.Errorf("pull request %d: closed_at: %w", p.Number, err)
		}
	}
	return p, nil
}

// OpenPR opens a pull request from branch head into branch base of
// owner/repo and emits its "opened" event. Like GitHub it refuses a head
// equal to base, a missing branch, and a second open PR for the same
// head and base (ErrExists).
func (h *Host) OpenPR(ctx context.Context, owner, repo, head, base, title string) (PR, error) {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return PR{}, err
	}
	for _, b := range []string{head, base} {
		if err := ValidateBranch(b); err != nil {
			return PR{}, err
		}
	}
	if head == base {
		return PR{}, invalidf("head and base are both %q", head)
	}
	if title == "" || len(title) > 256 {
		return PR{}, invalidf("title must be 1 to 256 bytes")
	}
	// The repository lock orders this with pushes: the head sha recorded here
	// is the one the next synchronize event starts from.
	mu := h.lock(r.key)
	mu.Lock()
	defer mu.Unlock()
	headSHA, err := h.head(ctx, r, head)
	if err != nil {
		return PR{}, fmt.Errorf("open pull request: head: %w", err)
	}
	if _, err := h.head(ctx, r, base); err != nil {
		return PR{}, fmt.Errorf("open pull request: base: %w", err)
	}
	files, err := h.changedFiles(ctx, r, base, headSHA)
	if err != nil {
		return PR{}, fmt.Errorf("open pull request: %w", err)
	}
	now := h.stamp()
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return PR{}, fmt.Errorf("open pull request: %w", err)
	}
	defer tx.Rollback()
	var dup int
	err = tx.QueryRowContext(ctx, `SELECT number FROM githost_pull_requests
		WHERE repo_key = ? AND head_ref = ? AND base_ref = ? AND state = 'open'`, r.key, head, base).Scan(&dup)
	if err == nil {
		return PR{}, fmt.Errorf("a pull request already exists for %s:%s (#%d): %w", r.owner, head, dup, ErrExists)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return PR{}, fmt.Errorf("open pull request: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM githost_pull_requests WHERE repo_key = ?`,
		r.key).Scan(&n); err != nil {
		return PR{}, fmt.Errorf("open pull request: %w", err)
	}
	ts := now.Format(time.RFC3339)
	if _, err := tx.ExecContext(ctx, `INSERT INTO githost_pull_requests
		(repo_key, number, title, head_ref, head_sha, base_ref, state, merged, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 'open', 0, ?, ?)`, r.key, n, title, head, headSHA, base, ts, ts); err != nil {
		return PR{}, fmt.Errorf("open pull request: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return PR{}, fmt.Errorf("open pull request: %w", err)
	}
	pr := PR{Owner: r.owner, Repo: r.name, Number: n, Title: title, HeadRef: head, HeadSHA: headSHA,
		BaseRef: base, State: StateOpen, CreatedAt: now, UpdatedAt: now}
	h.ev.emit(Event{Type: EventPullRequest, Owner: r.owner, Repo: r.name,
		PullRequest: &PullRequestEvent{Action: ActionOpened, PR: pr, Files: files}})
	return pr, nil
}

// ClosePR closes an open pull request and emits its "closed" event. Closing
// a closed one changes nothing and emits nothing.
func (h *Host) ClosePR(ctx context.Context, owner, repo string, number int) (PR, error) {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return PR{}, err
	}
	mu := h.lock(r.key)
	mu.Lock()
	defer mu.Unlock()
	pr, err := h.getPR(ctx, r, number)
	if err != nil || pr.State == StateClosed {
		return pr, err
	}
	now := h.stamp()
	ts := now.Format(time.RFC3339)
	if _, err := h.db.ExecContext(ctx, `UPDATE githost_pull_requests SET state = 'closed', updated_at = ?, closed_at = ?
		WHERE repo_key = ? AND number = ?`, ts, ts, r.key, number); err != nil {
		return PR{}, fmt.Errorf("close pull request #%d of %s: %w", number, r.key, err)
	}
	pr.State, pr.UpdatedAt, pr.ClosedAt = StateClosed, now, now
	files, err := h.changedFiles(context.WithoutCancel(ctx), r, pr.BaseRef, pr.HeadSHA)
	if err != nil {
		h.log.Error("githost: files of pull request", "repo", r.key, "number", number, "err", err)
	}
	h.ev.emit(Event{Type: EventPullRequest, Owner: r.owner, Repo: r.name,
		PullRequest: &PullRequestEvent{Action: ActionClosed, PR: pr, Files: files}})
	return pr, nil
}

// GetPR returns pull request number of owner/repo, or ErrNotFound.
func (h *Host) GetPR(ctx context.Context, owner, repo string, number int) (PR, error) {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return PR{}, err
	}
	return h.getPR(ctx, r, number)
}

func (h *Host) getPR(ctx context.Context, r *repoRef, number int) (PR, error) {
	row := h.db.QueryRowContext(ctx, `SELECT `+prColumns+` FROM githost_pull_requests WHERE repo_key = ? AND number = ?`,
		r.key, number)
	pr, err := scanPR(r, row)
	if errors.Is(err, sql.ErrNoRows) {
		return PR{}, fmt.Errorf("pull request #%d of %s: %w", number, r.key, ErrNotFound)
	}
	if err != nil {
		return PR{}, fmt.Errorf("pull request #%d of %s: %w", number, r.key, err)
	}
	return pr, nil
}

// ListPRs returns the pull requests of owner/repo in state "open", "closed"
// or "all" ("" means open, as GitHub's default), newest first.
func (h *Host) ListPRs(ctx context.Context, owner, repo, state string) ([]PR, error) {
	r, err := h.repo(ctx, owner, repo)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + prColumns + ` FROM githost_pull_requests WHERE repo_key = ?`
	args := []any{r.key}
	switch state {
	case "", StateOpen, StateClosed:
		if state == "" {
			state = StateOpen
		}
		q += ` AND state = ?`
		args = append(args, state)
	case "all":
	default:
		return nil, invalidf("state %q is not open, closed or all", state)
	}
	rows, err := h.db.QueryContext(ctx, q+` ORDER BY number DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("list pull requests of %s: %w", r.key, err)
	}
	defer rows.Close()
	prs := []PR{}
	for rows.Next() {
		pr, err := scanPR(r, rows)
		if err != nil {
			return nil, fmt.Errorf("list pull requests of %s: %w", r.key, err)
		}
		prs = append(prs, pr)
	}
	return prs, rows.Err()
}

// syncPRsLocked records the new head of every open pull request whose head
// is branch and emits their synchronize events. Called with the repository
// lock held, right after the push event.
func (h *Host) syncPRsLocked(ctx context.Context, r *repoRef, branch, after string) {
	rows, err := h.db.QueryContext(ctx, `SELECT `+prColumns+` FROM githost_pull_requests
		WHERE repo_key = ? AND head_ref = ? AND state = 'open' ORDER BY number`, r.key, branch)
	if err != nil {
		h.log.Error("githost: pull requests of pushed branch", "repo", r.key, "branch", branch, "err", err)
		return
	}
	var prs []PR
	for rows.Next() {
		pr, err := scanPR(r, rows)
		if err != nil {
			h.log.Error("githost: pull request row", "repo", r.key, "err", err)
			continue
		}
		prs = append(prs, pr)
	}
	rows.Close()
	now := h.stamp()
	for _, pr := range prs {
		if pr.HeadSHA == after {
			continue
		}
		if _, err := h.db.ExecContext(ctx, `UPDATE githost_pull_requests SET head_sha = ?, updated_at = ?
			WHERE repo_key = ? AND number = ?`, after, now.Format(time.RFC3339), r.key, pr.Number); err != nil {
			h.log.Error("githost: record pull request head", "repo", r.key, "number", pr.Number, "err", err)
			continue
		}
		pr.HeadSHA, pr.UpdatedAt = after, now
		files, err := h.changedFiles(ctx, r, pr.BaseRef, after)
		if err != nil {
			h.log.Error("githost: files of pull request", "repo", r.key, "number", pr.Number, "err", err)
		}
		h.ev.emit(Event{Type: EventPullRequest, Owner: r.owner, Repo: r.name,
			PullRequest: &PullRequestEvent{Action: ActionSynchronize, PR: pr, Files: files}})
	}
}

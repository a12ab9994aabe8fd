// Package ghevent reads the fields previewctl needs from a GitHub
// pull_request (or pull_request_target) event payload.
package ghevent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/google/go-github/v60/github"
)

// PullRequest is what an environment needs from the event. Owner and Repo
// are the PR's base repository (where the PR lives), not the head's.
type PullRequest struct {
	Owner, Repo   string
	Number        int
	HeadSHA       string
	HeadRef       string
	DefaultBranch string
	// Fork is true when the head lives in another repository.
	Fork bool
}

// MaxSize bounds the payload read; GitHub's events are far smaller.
const MaxSize = 25 << 20

// Read decodes a pull_request event payload.
func Read(r io.Reader) (PullRequest, error) {
	var ev github.PullRequestEvent
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return PullRequest{}, fmt.Errorf("reading event: %w", err)
	}
	if len(data) > MaxSize {
		return PullRequest{}, fmt.Errorf("event payload larger than %d bytes", MaxSize)
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return PullRequest{}, fmt.Errorf("event is not JSON: %w", err)
	}
	pr := ev.GetPullRequest()
	if pr == nil {
		return PullRequest{}, errors.New("event has no pull_request (not a pull_request event?)")
	}
	base := pr.GetBase().GetRepo()
	if base == nil {
		base = ev.GetRepo()
	}
	if base == nil {
		return PullRequest{}, errors.New("event has no base repository")
	}
	head := pr.GetHead()
	out := PullRequest{
		Owner:         base.GetOwner().GetLogin(),
		Repo:          base.GetName(),
		Number:        pr.GetNumber(),
		HeadSHA:       head.GetSHA(),
		HeadRef:       head.GetRef(),
		DefaultBranch: base.GetDefaultBranch(),
	}
	if out.Number == 0 {
		out.Number = ev.GetNumber()
	}
	if hr := head.GetRepo(); hr != nil && hr.GetFullName() != "" && hr.GetFullName() != base.GetFullName() {
		out.Fork = true
	}
	return out, nil
}

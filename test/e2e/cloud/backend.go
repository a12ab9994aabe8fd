package cloud

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"preview-environments/test/e2e"
	"preview-environments/test/e2e/spacelift"
)

// Backend is e2e.Backend on GitHub + Spacelift + AWS.
type Backend struct {
	cfg      Config
	runID    string
	stateDir string
	gh       *gitHub
	sl       *spacelift.Client
	fn       *functions
}

var _ e2e.Backend = (*Backend)(nil)

// New connects to the three services. runID names the branch and the state
// file; stateDir is where the state file goes (e2e.StateDir()).
func New(ctx context.Context, cfg Config, runID, stateDir string) (*Backend, error) {
	gh, err := newGitHub(cfg.GitHubToken, cfg.Repository, cfg.GitHubAPIURL)
	if err != nil {
		return nil, err
	}
	sl, err := spacelift.New(cfg.SpaceliftURL, cfg.SpaceliftKeyID, cfg.SpaceliftSecret, nil)
	if err != nil {
		return nil, err
	}
	fn, err := newFunctions(ctx, cfg.AWSRegion)
	if err != nil {
		return nil, err
	}
	return &Backend{cfg: cfg, runID: runID, stateDir: stateDir, gh: gh, sl: sl, fn: fn}, nil
}

// Name implements e2e.Backend.
func (b *Backend) Name() string { return "cloud" }

func (b *Backend) branch() string { return "e2e/" + b.runID }

// changeFile is the file each commit writes: inside service/ so the preview
// workflow treats the PR as a service change (code_version = head sha).
func (b *Backend) changeFile() string { return path.Join(b.cfg.ServiceChangeDir, b.runID+".txt") }

func (b *Backend) state() e2e.State {
	return e2e.State{RunID: b.runID, Suite: "lifecycle", Backend: "cloud", Created: time.Now().UTC(), Repository: b.cfg.Repository, Branch: b.branch()}
}

// OpenPR implements e2e.Backend. The state file is written before the
// branch exists, so even a crash between two API calls leaves a record.
func (b *Backend) OpenPR(ctx context.Context, change e2e.ServiceChange) (e2e.PR, error) {
	st := b.state()
	if _, err := e2e.SaveState(b.stateDir, st); err != nil {
		return e2e.PR{}, err
	}
	base, err := b.gh.createBranch(ctx, b.branch())
	if err != nil {
		return e2e.PR{}, err
	}
	sha, err := b.gh.writeFile(ctx, b.branch(), b.changeFile(), change.Marker+"\n", "e2e: change the service ("+change.Marker+")")
	if err != nil {
		return e2e.PR{}, err
	}
	n, err := b.gh.openPR(ctx, b.branch(), base, "e2e "+b.runID+": preview lifecycle")
	if err != nil {
		return e2e.PR{}, err
	}
	st.PRNumber = n
	if _, err := e2e.SaveState(b.stateDir, st); err != nil {
		return e2e.PR{}, err
	}
	owner, repo := b.cfg.OwnerRepo()
	return e2e.PR{Owner: owner, Repo: repo, Number: n, Branch: b.branch(), HeadSHA: sha, EnvironmentID: EnvironmentID(owner, repo, n)}, nil
}

// Push implements e2e.Backend.
func (b *Backend) Push(ctx context.Context, pr e2e.PR, change e2e.ServiceChange) (string, error) {
	return b.gh.writeFile(ctx, pr.Branch, b.changeFile(), change.Marker+"\n", "e2e: change the service again ("+change.Marker+")")
}

// Close implements e2e.Backend; the state file goes once both are done.
func (b *Backend) Close(ctx context.Context, pr e2e.PR) error {
	if err := b.gh.closePR(ctx, pr.Number, pr.Branch); err != nil {
		return err
	}
	return e2e.RemoveState(b.stateDir, b.state())
}

// Endpoint implements e2e.Backend.
func (b *Backend) Endpoint(pr e2e.PR) e2e.Endpoint {
	return e2e.Endpoint{URL: URL(b.cfg.PreviewDomain, pr.EnvironmentID)}
}

// Gone implements e2e.Backend: no stack carries the environment's label and
// Lambda has no function of that name.
func (b *Backend) Gone(ctx context.Context, pr e2e.PR) error {
	var errs []error
	stacks, err := b.sl.StacksWithLabel(ctx, StackLabel(pr.EnvironmentID))
	if err != nil {
		errs = append(errs, err)
	}
	for _, s := range stacks {
		errs = append(errs, fmt.Errorf("spacelift stack %s still exists (state %s, deleting %v)", s.ID, s.State, s.Deleting))
	}
	if err := b.fn.gone(ctx, FunctionName(b.cfg.Service, pr.EnvironmentID)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Diagnostics implements e2e.Backend.
func (b *Backend) Diagnostics(ctx context.Context, pr e2e.PR) string {
	// The scenario's context may be what ran out; diagnostics get their own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	lines := []string{
		fmt.Sprintf("github: %s PR #%d branch %s head %s", b.cfg.Repository, pr.Number, pr.Branch, pr.HeadSHA),
		b.sl.Describe(ctx, StackLabel(pr.EnvironmentID)),
		b.fn.describe(ctx, FunctionName(b.cfg.Service, pr.EnvironmentID)),
	}
	return strings.Join(lines, "\n")
}

// CleanupState closes the PR and deletes the branch a lifecycle state file
// names, then removes the file. The environment itself is removed by the
// platform once the PR is closed (that is the behaviour under test).
func CleanupState(ctx context.Context, cfg Config, stateDir string, st e2e.State) error {
	if st.Suite != "lifecycle" || st.Backend != "cloud" {
		return fmt.Errorf("state %s/%s is not a cloud lifecycle run", st.Suite, st.RunID)
	}
	if st.Repository != cfg.Repository {
		return fmt.Errorf("state %s names repository %s but E2E_GITHUB_REPOSITORY is %s: not touching it", st.RunID, st.Repository, cfg.Repository)
	}
	gh, err := newGitHub(cfg.GitHubToken, st.Repository, cfg.GitHubAPIURL)
	if err != nil {
		return err
	}
	if err := gh.closePR(ctx, st.PRNumber, st.Branch); err != nil {
		return fmt.Errorf("clean up run %s: %w", st.RunID, err)
	}
	return e2e.RemoveState(stateDir, st)
}

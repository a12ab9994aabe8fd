package policies

// The structs below mirror the policy inputs Spacelift documents for trigger
// and git push policies (docs/snippets/*_input.json in Spacelift's user
// documentation), field for field and with the same JSON names, so the
// sandbox builds the same documents Spacelift would.

// Commit is a commit as Spacelift describes it in run.commit and
// stack.tracked_commit.
type Commit struct {
	Author               string `json:"author"`
	Branch               string `json:"branch"`
	CreatedAt            int64  `json:"created_at"` // Unix nanoseconds
	ExistOnTrackedBranch bool   `json:"exist_on_tracked_branch"`
	Hash                 string `json:"hash"`
	Message              string `json:"message"`
	PullRequestID        *int64 `json:"pull_request_id"`
	Tag                  string `json:"tag"`
	URL                  string `json:"url"`
}

// Space is the space a stack lives in.
type Space struct {
	ID     string   `json:"id"`
	Labels []string `json:"labels"`
	Name   string   `json:"name"`
}

// WorkerPool is a stack's worker pool; ID and Name are null for the public pool.
type WorkerPool struct {
	ID     *string  `json:"id"`
	Labels []string `json:"labels"`
	Name   *string  `json:"name"`
	Public bool     `json:"public"`
}

// Stack is a stack as it appears in input.stack and input.stacks[].
type Stack struct {
	AdditionalProjectGlobs []string    `json:"additional_project_globs"`
	Administrative         bool        `json:"administrative"`
	Autodeploy             bool        `json:"autodeploy"`
	Branch                 string      `json:"branch"`
	Contexts               []string    `json:"contexts"`
	ID                     string      `json:"id"`
	Labels                 []string    `json:"labels"`
	LockedBy               *string     `json:"locked_by"`
	Name                   string      `json:"name"`
	Namespace              string      `json:"namespace"`
	ProjectRoot            string      `json:"project_root"`
	Repository             string      `json:"repository"`
	Space                  Space       `json:"space"`
	State                  string      `json:"state"`
	TerraformVersion       string      `json:"terraform_version"`
	TerraformWorkflowTool  string      `json:"terraform_workflow_tool"`
	TrackedCommit          *Commit     `json:"tracked_commit"`
	WorkerPool             *WorkerPool `json:"worker_pool"`
	// QueuedRuns is only set for entries of input.stacks.
	QueuedRuns *int `json:"queued_runs,omitempty"`
}

// Entity is the resource or output a change applies to. For Terraform
// resources the attribute values sit in Data["values"]; under Spacelift's
// default sanitization every string value there is sanitized().
type Entity struct {
	Address      string         `json:"address"`
	Name         string         `json:"name"`
	Type         string         `json:"type"`
	EntityVendor string         `json:"entity_vendor"`
	EntityType   string         `json:"entity_type"`
	Data         map[string]any `json:"data"`
}

// Change is one entry of run.changes.
type Change struct {
	Action string `json:"action"` // added, changed, deleted, *-replaced, import, forget
	Phase  string `json:"phase"`  // plan or apply
	Moved  bool   `json:"moved"`
	Entity Entity `json:"entity"`
}

// CreatorSession is the session that created a run; null for runs caused by a push.
type CreatorSession struct {
	AccountName string   `json:"account_name"`
	Admin       bool     `json:"admin"`
	CreatorIP   string   `json:"creator_ip"`
	Login       string   `json:"login"`
	Machine     bool     `json:"machine"`
	Member      bool     `json:"member"`
	Name        string   `json:"name"`
	StackID     string   `json:"stack_id"`
	Teams       []string `json:"teams"`
}

// RuntimeConfig is the configuration a run was executed with.
type RuntimeConfig struct {
	AfterApply             []string          `json:"after_apply"`
	AfterDestroy           []string          `json:"after_destroy"`
	AfterInit              []string          `json:"after_init"`
	AfterPerform           []string          `json:"after_perform"`
	AfterPlan              []string          `json:"after_plan"`
	AfterRun               []string          `json:"after_run"`
	BeforeApply            []string          `json:"before_apply"`
	BeforeDestroy          []string          `json:"before_destroy"`
	BeforeInit             []string          `json:"before_init"`
	BeforePerform          []string          `json:"before_perform"`
	BeforePlan             []string          `json:"before_plan"`
	Environment            map[string]string `json:"environment"`
	GitSparseCheckoutPaths []string          `json:"git_sparse_checkout_paths"`
	ProjectRoot            string            `json:"project_root"`
	RunnerImage            string            `json:"runner_image"`
	TerraformVersion       string            `json:"terraform_version"`
}

// StateChange is one entry of run.states_history.
type StateChange struct {
	NewState string `json:"new_state"`
}

// Run is the run whose terminal state triggered the policy.
type Run struct {
	BasedOnLocalWorkspace bool            `json:"based_on_local_workspace"`
	Branch                string          `json:"branch"`
	Changes               []Change        `json:"changes"`
	Command               string          `json:"command"`
	Commit                *Commit         `json:"commit"`
	CreatedAt             int64           `json:"created_at"`
	CreatorSession        *CreatorSession `json:"creator_session"`
	DriftDetection        bool            `json:"drift_detection"`
	Flags                 []string        `json:"flags"`
	ID                    string          `json:"id"`
	RuntimeConfig         *RuntimeConfig  `json:"runtime_config"`
	State                 string          `json:"state"` // FINISHED, FAILED, CANCELED, DISCARDED, STOPPED, SKIPPED
	StatesHistory         []StateChange   `json:"states_history"`
	TriggeredBy           *string         `json:"triggered_by"` // null for runs caused by a push
	Type                  string          `json:"type"`         // TRACKED, PROPOSED, TASK, TESTING, DESTROY, PARSE
	UpdatedAt             int64           `json:"updated_at"`
	UserProvidedMetadata  []string        `json:"user_provided_metadata"`
}

// WorkflowRun is one run of the workflow the finished run belongs to.
type WorkflowRun struct {
	ID      string `json:"id"`
	StackID string `json:"stack_id"`
	State   string `json:"state"`
	Type    string `json:"type"`
}

// TriggerInput is the document a trigger policy receives when a run ends.
type TriggerInput struct {
	Run      Run           `json:"run"`
	Stack    Stack         `json:"stack"`  // the stack whose run finished
	Stacks   []Stack       `json:"stacks"` // every stack in the account
	Workflow []WorkflowRun `json:"workflow"`
}

// Push is the push (or a PR event's head commit) a push policy judges.
type Push struct {
	AffectedFiles []string `json:"affected_files"`
	Author        string   `json:"author"`
	Branch        string   `json:"branch"`
	CreatedAt     int64    `json:"created_at"`
	Hash          string   `json:"hash"`
	Message       string   `json:"message"`
	Tag           string   `json:"tag"`
}

// PullRequestCommit is pull_request.head or pull_request.base.
type PullRequestCommit struct {
	Push
	URL string `json:"url"`
}

// PullRequest is set for pull request events and null for plain pushes.
type PullRequest struct {
	Action          string            `json:"action"`
	ActionInitiator string            `json:"action_initiator"`
	Approved        bool              `json:"approved"`
	Author          string            `json:"author"`
	Base            PullRequestCommit `json:"base"`
	Closed          bool              `json:"closed"`
	Comment         string            `json:"comment"`
	Diff            []string          `json:"diff"`
	Draft           bool              `json:"draft"`
	Head            PullRequestCommit `json:"head"`
	HeadOwner       string            `json:"head_owner"`
	ID              int64             `json:"id"`
	Labels          []string          `json:"labels"`
	Mergeable       bool              `json:"mergeable"`
	Title           string            `json:"title"`
	Undiverged      bool              `json:"undiverged"`
}

// InProgressRun is a queued, ready or unconfirmed run of the stack.
type InProgressRun struct {
	Branch      string  `json:"branch"`
	Commit      *Commit `json:"commit"`
	ID          string  `json:"id"`
	State       string  `json:"state"`
	TriggeredBy *string `json:"triggered_by"`
	Type        string  `json:"type"`
}

// VCSIntegration is the VCS integration the stack uses.
type VCSIntegration struct {
	ID        string   `json:"id"`
	Labels    []string `json:"labels"`
	Name      string   `json:"name"`
	Provider  string   `json:"provider"`
	VCSChecks string   `json:"vcs_checks"`
}

// PushInput is the document a git push policy receives.
type PushInput struct {
	Push           Push            `json:"push"`
	PullRequest    *PullRequest    `json:"pull_request"`
	Stack          Stack           `json:"stack"`
	InProgress     []InProgressRun `json:"in_progress"`
	VCSIntegration *VCSIntegration `json:"vcs_integration"`
}

package spacelift

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

type stackResource struct{ base }

func newStackResource() resource.Resource { return &stackResource{} }

func (r *stackResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_stack"
}

// vcsBlocks name the block attribute that becomes StackSpec.Namespace.
var vcsBlocks = map[string]string{
	"azure_devops":         "project",
	"bitbucket_cloud":      "namespace",
	"bitbucket_datacenter": "namespace",
	"github_enterprise":    "namespace",
	"gitlab":               "namespace",
	"raw_git":              "namespace",
	"showcase":             "namespace",
}

// vendorBlocks conflict with each other and with opentofu: a stack has one
// vendor.
var vendorBlocks = []string{"ansible", "cloudformation", "kubernetes", "opentofu", "pulumi", "terragrunt"}

func (r *stackResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, Description: desc}
	}
	req := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Required: true, Description: desc}
	}
	boolean := func(desc string) schema.BoolAttribute { return schema.BoolAttribute{Optional: true, Description: desc} }
	hooks := func(phase string) schema.ListAttribute {
		return schema.ListAttribute{Optional: true, ElementType: types.StringType, Description: "Stored only: commands run " + phase + "."}
	}
	block := func(desc string, attrs map[string]schema.Attribute) schema.ListNestedBlock {
		return schema.ListNestedBlock{
			Description:  desc + " At most one.",
			NestedObject: schema.NestedBlockObject{Attributes: attrs},
		}
	}
	vcsID := schema.StringAttribute{
		Optional: true, Computed: true,
		Description:   "ID of the VCS integration; the default one when unset.",
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
	ns := func(desc string) map[string]schema.Attribute {
		return map[string]schema.Attribute{"id": vcsID, "namespace": req(desc)}
	}

	resp.Schema = schema.Schema{
		Description: "A stack: a repository, branch and project root that runs plan and apply.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, Description: "The stack's slug.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name":       req("Name, unique in the account; the slug is made from it."),
			"repository": req("Repository name, without the owner."),
			"branch":     req("Tracked branch."),
			"slug": schema.StringAttribute{
				Optional: true, Computed: true,
				Description:   "The stack's ID; derived from the name when unset. Changing it replaces the stack.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace(), stringplanmodifier.UseStateForUnknown()},
			},
			"space_id": schema.StringAttribute{
				Optional: true, Computed: true, Description: `Space of the stack; "root" when unset.`,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"labels": schema.SetAttribute{
				Optional: true, Computed: true, ElementType: types.StringType,
				PlanModifiers: []planmodifier.Set{setplanmodifier.UseStateForUnknown()},
			},
			"aws_assume_role_policy_statement": schema.StringAttribute{
				Computed: true, Description: "Trust policy statement for a role this stack assumes.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"description":              str("Free-form description."),
			"project_root":             str("Directory of the root module within the repository."),
			"additional_project_globs": schema.SetAttribute{Optional: true, ElementType: types.StringType, Description: "Further paths whose changes affect the stack."},
			"autodeploy":               boolean("Apply tracked runs without confirmation; defaults to false."),
			"administrative":           boolean("Deprecated in favour of spacelift_role_attachment; defaults to false."),
			"manage_state": schema.BoolAttribute{
				Optional: true, Description: "Spacelift holds the state; defaults to true. Changing it replaces the stack.",
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()},
			},
			"protect_from_deletion":        boolean("Refuse to delete the stack; defaults to false."),
			"terraform_version":            str("OpenTofu/Terraform version."),
			"terraform_workflow_tool":      str("OPEN_TOFU, TERRAFORM_FOSS (the default) or CUSTOM."),
			"terraform_workspace":          str("Workspace to select."),
			"terraform_smart_sanitization": boolean("Sanitize only sensitive values; defaults to false."),
			"worker_pool_id":               str("Private worker pool."),
			"runner_image":                 str("Runner image."),

			"terraform_external_state_access":  boolean("Stored only."),
			"allow_run_promotion":              boolean("Stored only."),
			"autoretry":                        boolean("Stored only."),
			"enable_local_preview":             boolean("Stored only."),
			"enable_sensitive_outputs_upload":  boolean("Stored only."),
			"enable_well_known_secret_masking": boolean("Stored only."),
			"github_action_deploy":             boolean("Stored only; deprecated in favour of allow_run_promotion."),
			"import_state":                     schema.StringAttribute{Optional: true, Sensitive: true, Description: "Stored only: the sandbox does not import state."},
			"import_state_file":                str("Stored only: the sandbox does not import state."),
			"after_apply":                      hooks("after apply"),
			"after_destroy":                    hooks("after destroy"),
			"after_init":                       hooks("after init"),
			"after_perform":                    hooks("after perform"),
			"after_plan":                       hooks("after plan"),
			"after_run":                        hooks("after every run"),
			"before_apply":                     hooks("before apply"),
			"before_destroy":                   hooks("before destroy"),
			"before_init":                      hooks("before init"),
			"before_perform":                   hooks("before perform"),
			"before_plan":                      hooks("before plan"),
		},
		Blocks: map[string]schema.Block{
			"opentofu": block("OpenTofu settings; they take the place of the terraform_* arguments.", map[string]schema.Attribute{
				"version":                str("OpenTofu version."),
				"workflow_tool":          str("OPENTOFU (the default) or CUSTOM."),
				"workspace":              str("Workspace to select."),
				"use_smart_sanitization": boolean("Sanitize only sensitive values; defaults to true."),
				"external_state_access":  boolean("Stored only."),
			}),
			"github_enterprise":    block("GitHub Enterprise repository.", ns("Owner of the repository.")),
			"gitlab":               block("GitLab repository.", ns("Namespace of the repository.")),
			"bitbucket_cloud":      block("Bitbucket Cloud repository.", ns("Project of the repository.")),
			"bitbucket_datacenter": block("Bitbucket Data Center repository.", ns("Project of the repository.")),
			"azure_devops": block("Azure DevOps repository.", map[string]schema.Attribute{
				"id": vcsID, "project": req("Azure DevOps project."),
			}),
			"raw_git": block("Any git repository over HTTPS.", map[string]schema.Attribute{
				"namespace": req("Cosmetic namespace."), "url": req("HTTPS URL of the repository."),
			}),
			"showcase": block("Showcase repository.", map[string]schema.Attribute{"namespace": req("Namespace.")}),
			"ansible":  block("Stored only: Ansible stack.", map[string]schema.Attribute{"playbook": req("Playbook to run.")}),
			"cloudformation": block("Stored only: CloudFormation stack.", map[string]schema.Attribute{
				"entry_template_file": req("Template file."), "region": req("AWS region."),
				"stack_name": req("CloudFormation stack name."), "template_bucket": req("S3 bucket for templates."),
			}),
			"kubernetes": block("Stored only: Kubernetes stack.", map[string]schema.Attribute{
				"kubectl_version": str("kubectl version."), "namespace": str("Namespace."), "workflow_tool": str("Workflow tool."),
			}),
			"pulumi": block("Stored only: Pulumi stack.", map[string]schema.Attribute{
				"login_url": req("State backend."), "stack_name": req("Pulumi stack name."),
			}),
			"terragrunt": block("Stored only: Terragrunt stack.", map[string]schema.Attribute{
				"terraform_version": str("Terraform version."), "terragrunt_version": str("Terragrunt version."),
				"tool": str("Tool."), "use_run_all": boolean("run-all."), "use_smart_sanitization": boolean("Smart sanitization."),
			}),
		},
	}
}

// stackArgs are the arguments the stand-in acts on; every other argument
// goes from the plan to the state untouched.
type stackArgs struct {
	Name, Slug, Description, Repository, Branch, ProjectRoot, SpaceID types.String
	TerraformVersion, TerraformWorkflowTool, TerraformWorkspace       types.String
	WorkerPoolID, RunnerImage                                         types.String
	AdditionalProjectGlobs, Labels                                    types.Set
	Autodeploy, Administrative, ManageState, ProtectFromDeletion      types.Bool
	TerraformSmartSanitization                                        types.Bool
	OpenTofu                                                          []openTofuBlock
	Namespace                                                         string
}

type openTofuBlock struct {
	Version              types.String `tfsdk:"version"`
	WorkflowTool         types.String `tfsdk:"workflow_tool"`
	Workspace            types.String `tfsdk:"workspace"`
	UseSmartSanitization types.Bool   `tfsdk:"use_smart_sanitization"`
	ExternalStateAccess  types.Bool   `tfsdk:"external_state_access"`
}

func (a *stackArgs) fields() map[string]any {
	return map[string]any{
		"name": &a.Name, "slug": &a.Slug, "description": &a.Description, "repository": &a.Repository,
		"branch": &a.Branch, "project_root": &a.ProjectRoot, "space_id": &a.SpaceID,
		"terraform_version": &a.TerraformVersion, "terraform_workflow_tool": &a.TerraformWorkflowTool,
		"terraform_workspace": &a.TerraformWorkspace, "worker_pool_id": &a.WorkerPoolID, "runner_image": &a.RunnerImage,
		"additional_project_globs": &a.AdditionalProjectGlobs, "labels": &a.Labels,
		"autodeploy": &a.Autodeploy, "administrative": &a.Administrative, "manage_state": &a.ManageState,
		"protect_from_deletion": &a.ProtectFromDeletion, "terraform_smart_sanitization": &a.TerraformSmartSanitization,
		"opentofu": &a.OpenTofu,
	}
}

func readStackArgs(ctx context.Context, src getter, diags *diag.Diagnostics) stackArgs {
	var a stackArgs
	for name, ptr := range a.fields() {
		diags.Append(src.GetAttribute(ctx, path.Root(name), ptr)...)
	}
	for _, blockName := range sortedBlockNames() {
		var ns types.String
		var l types.List
		diags.Append(src.GetAttribute(ctx, path.Root(blockName), &l)...)
		if l.IsNull() || l.IsUnknown() || len(l.Elements()) == 0 {
			continue
		}
		diags.Append(src.GetAttribute(ctx, path.Root(blockName).AtListIndex(0).AtName(vcsBlocks[blockName]), &ns)...)
		a.Namespace = ns.ValueString()
	}
	return a
}

func sortedBlockNames() []string {
	names := make([]string, 0, len(vcsBlocks))
	for n := range vcsBlocks {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// spec is what the arguments make the provider send, defaults applied, so
// that it equals what a Backend stores and reads back.
func (a stackArgs) spec(ctx context.Context, diags *diag.Diagnostics) slapi.StackSpec {
	s := slapi.StackSpec{
		Name:                       a.Name.ValueString(),
		Slug:                       a.Slug.ValueString(),
		Description:                a.Description.ValueString(),
		Repository:                 a.Repository.ValueString(),
		Namespace:                  a.Namespace,
		Branch:                     a.Branch.ValueString(),
		ProjectRoot:                a.ProjectRoot.ValueString(),
		AdditionalProjectGlobs:     stringsOf(ctx, a.AdditionalProjectGlobs, diags),
		Labels:                     stringsOf(ctx, a.Labels, diags),
		Autodeploy:                 boolOr(a.Autodeploy, false),
		Administrative:             boolOr(a.Administrative, false),
		SpaceID:                    stringOr(a.SpaceID, slapi.DefaultSpaceID),
		ManageState:                boolOr(a.ManageState, true),
		ProtectFromDeletion:        boolOr(a.ProtectFromDeletion, false),
		TerraformVersion:           a.TerraformVersion.ValueString(),
		TerraformWorkflowTool:      stringOr(a.TerraformWorkflowTool, slapi.DefaultWorkflowTool),
		TerraformWorkspace:         a.TerraformWorkspace.ValueString(),
		TerraformSmartSanitization: boolOr(a.TerraformSmartSanitization, false),
		WorkerPoolID:               a.WorkerPoolID.ValueString(),
		RunnerImage:                a.RunnerImage.ValueString(),
	}
	if s.Slug == "" {
		s.Slug = slapi.Slug(s.Name)
	}
	if len(a.OpenTofu) > 0 {
		// The block's settings are the terraform_* ones under other names,
		// with smart sanitization on by default (the trigger policy cares).
		o := a.OpenTofu[0]
		s.TerraformWorkflowTool = "OPEN_TOFU"
		if o.WorkflowTool.ValueString() == "CUSTOM" {
			s.TerraformWorkflowTool = "CUSTOM"
		}
		s.TerraformVersion = o.Version.ValueString()
		s.TerraformWorkspace = o.Workspace.ValueString()
		s.TerraformSmartSanitization = boolOr(o.UseSmartSanitization, true)
	}
	return s
}

// sameStack compares specs as a Backend stores them.
func sameStack(a, b slapi.StackSpec) bool {
	norm := func(s slapi.StackSpec) slapi.StackSpec {
		if s.Slug == "" {
			s.Slug = slapi.Slug(s.Name)
		}
		if s.SpaceID == "" {
			s.SpaceID = slapi.DefaultSpaceID
		}
		if s.TerraformWorkflowTool == "" {
			s.TerraformWorkflowTool = slapi.DefaultWorkflowTool
		}
		s.Labels = sortedCopy(s.Labels)
		s.AdditionalProjectGlobs = sortedCopy(s.AdditionalProjectGlobs)
		return s
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func (r *stackResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	count := func(name string) int {
		var l types.List
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name), &l)...)
		if l.IsNull() {
			return 0
		}
		if l.IsUnknown() {
			return 1
		}
		return len(l.Elements())
	}
	// The real schema says max_items = 1; the framework cannot declare it
	// for list blocks, so it is checked here.
	var vcs, vendors []string
	for _, name := range append(sortedBlockNames(), vendorBlocks...) {
		n := count(name)
		if n > 1 {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Too many blocks", fmt.Sprintf("At most one %s block is allowed, got %d.", name, n))
		}
		if n == 0 {
			continue
		}
		if _, ok := vcsBlocks[name]; ok {
			vcs = append(vcs, name)
		} else {
			vendors = append(vendors, name)
		}
	}
	if len(vcs) > 1 {
		resp.Diagnostics.AddError("Conflicting VCS blocks", fmt.Sprintf("At most one VCS block is allowed, got %v.", vcs))
	}
	if len(vendors) > 1 {
		resp.Diagnostics.AddError("Conflicting vendor blocks", fmt.Sprintf("At most one vendor block is allowed, got %v.", vendors))
	}
	if len(vendors) == 1 {
		for _, name := range []string{"terraform_version", "terraform_workflow_tool", "terraform_workspace"} {
			var v types.String
			resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name), &v)...)
			if !v.IsNull() {
				resp.Diagnostics.AddAttributeError(path.Root(name), "Conflicting arguments", name+" conflicts with the "+vendors[0]+" block.")
			}
		}
		for _, name := range []string{"terraform_smart_sanitization", "terraform_external_state_access"} {
			var v types.Bool
			resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name), &v)...)
			if !v.IsNull() {
				resp.Diagnostics.AddAttributeError(path.Root(name), "Conflicting arguments", name+" conflicts with the "+vendors[0]+" block.")
			}
		}
	}
}

// assumeRoleStatement stands in for the trust statement Spacelift computes
// for a stack (its AWS account, external ID <account>@<stack>).
func assumeRoleStatement(stackID string) string {
	return fmt.Sprintf(`{"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"sandbox@%s"}},"Effect":"Allow","Principal":{"AWS":"000000000000"}}`, stackID)
}

// fillComputed sets the computed attributes the plan left unknown, from
// the stack the API answered with, and then every unknown left (a VCS
// block's id) to null.
func fillComputed(ctx context.Context, state *tfsdk.State, st slapi.Stack, diags *diag.Diagnostics) {
	setIfUnknown := func(name string, val any) {
		var cur types.String
		if name == "labels" {
			var set types.Set
			diags.Append(state.GetAttribute(ctx, path.Root(name), &set)...)
			if set.IsUnknown() {
				diags.Append(state.SetAttribute(ctx, path.Root(name), val)...)
			}
			return
		}
		diags.Append(state.GetAttribute(ctx, path.Root(name), &cur)...)
		if cur.IsUnknown() {
			diags.Append(state.SetAttribute(ctx, path.Root(name), val)...)
		}
	}
	setIfUnknown("id", st.ID)
	setIfUnknown("slug", st.ID)
	setIfUnknown("space_id", st.SpaceID)
	setIfUnknown("labels", stringSet(st.Labels))
	setIfUnknown("aws_assume_role_policy_statement", assumeRoleStatement(st.ID))
	if diags.HasError() {
		return
	}
	raw, err := unknownsToNull(state.Raw)
	if err != nil {
		diags.AddError("Internal error", "resolving unknown values: "+err.Error())
		return
	}
	state.Raw = raw
}

func (r *stackResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	a := readStackArgs(ctx, req.Plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	spec := a.spec(ctx, &resp.Diagnostics)
	st, err := r.client.CreateStack(ctx, spec)
	var conflict *slapi.ConflictError
	if errors.As(err, &conflict) {
		// A manager run can be killed after the stack was created and
		// before tofu saved that in its state; the next run plans the same
		// create and would fail on the name forever, wedging the
		// environment. A stack that has exactly the planned spec is that
		// stack, so it is adopted; any other stack with the slug belongs to
		// someone else and is an error.
		existing := conflict.Existing
		if existing.State != slapi.StateDeleting && sameStack(existing.StackSpec, spec) {
			tflog.Info(ctx, "adopting existing stack with the planned spec", map[string]any{"id": existing.ID})
			st, err = existing, nil
		} else {
			err = fmt.Errorf("stack %s already exists (state %s) with another spec: %w", existing.ID, existing.State, err)
		}
	}
	if err != nil {
		apiError(&resp.Diagnostics, "create stack "+spec.Name, err)
		return
	}
	resp.State.Raw = req.Plan.Raw.Copy()
	fillComputed(ctx, &resp.State, st, &resp.Diagnostics)
}

func (r *stackResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var id types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
	a := readStackArgs(ctx, req.State, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	st, err := r.client.GetStack(ctx, id.ValueString())
	if isNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read stack "+id.ValueString(), err)
		return
	}
	want := a.spec(ctx, &resp.Diagnostics)
	set := func(name string, v any) { resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(name), v)...) }
	set("name", refreshString(a.Name, want.Name, st.Name))
	set("slug", types.StringValue(st.ID))
	set("description", refreshString(a.Description, want.Description, st.Description))
	set("repository", refreshString(a.Repository, want.Repository, st.Repository))
	set("branch", refreshString(a.Branch, want.Branch, st.Branch))
	set("project_root", refreshString(a.ProjectRoot, want.ProjectRoot, st.ProjectRoot))
	set("space_id", types.StringValue(st.SpaceID))
	set("additional_project_globs", refreshSet(a.AdditionalProjectGlobs, want.AdditionalProjectGlobs, st.AdditionalProjectGlobs))
	set("labels", refreshSet(a.Labels, want.Labels, st.Labels))
	set("autodeploy", refreshBool(a.Autodeploy, want.Autodeploy, st.Autodeploy))
	set("administrative", refreshBool(a.Administrative, want.Administrative, st.Administrative))
	set("manage_state", refreshBool(a.ManageState, want.ManageState, st.ManageState))
	set("protect_from_deletion", refreshBool(a.ProtectFromDeletion, want.ProtectFromDeletion, st.ProtectFromDeletion))
	set("worker_pool_id", refreshString(a.WorkerPoolID, want.WorkerPoolID, st.WorkerPoolID))
	set("runner_image", refreshString(a.RunnerImage, want.RunnerImage, st.RunnerImage))
	if len(a.OpenTofu) == 0 {
		// With an opentofu block these live in the block; drift there is
		// not mapped back.
		set("terraform_version", refreshString(a.TerraformVersion, want.TerraformVersion, st.TerraformVersion))
		set("terraform_workflow_tool", refreshString(a.TerraformWorkflowTool, want.TerraformWorkflowTool, st.TerraformWorkflowTool))
		set("terraform_workspace", refreshString(a.TerraformWorkspace, want.TerraformWorkspace, st.TerraformWorkspace))
		set("terraform_smart_sanitization", refreshBool(a.TerraformSmartSanitization, want.TerraformSmartSanitization, st.TerraformSmartSanitization))
	}
	var stmt types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("aws_assume_role_policy_statement"), &stmt)...)
	if stmt.IsNull() {
		set("aws_assume_role_policy_statement", assumeRoleStatement(st.ID))
	}
}

func (r *stackResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var id types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
	a := readStackArgs(ctx, req.Plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	st, err := r.client.UpdateStack(ctx, id.ValueString(), a.spec(ctx, &resp.Diagnostics))
	if err != nil {
		apiError(&resp.Diagnostics, "update stack "+id.ValueString(), err)
		return
	}
	resp.State.Raw = req.Plan.Raw.Copy()
	fillComputed(ctx, &resp.State, st, &resp.Diagnostics)
}

func (r *stackResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var id types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	// Without destroy_resources, as the real provider: destroying what the
	// stack manages is the destructor's job, which (ordered by depends_on)
	// has usually deleted the stack already.
	if _, err := r.client.DeleteStack(ctx, id.ValueString(), false); err != nil && !isNotFound(err) {
		apiError(&resp.Diagnostics, "delete stack "+id.ValueString(), err)
	}
}

func (r *stackResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

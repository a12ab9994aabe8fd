package spacelift

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

// The real provider polls every 5 s; a sandbox destroy run takes seconds,
// so waiting 5 s for each would dominate the sandbox's timings.
var destroyPollInterval = 250 * time.Millisecond

// defaultDeleteTimeout is the real provider's timeouts.delete default.
const defaultDeleteTimeout = 2 * time.Hour

const destructorPrefix = "destructor-"

type destructorResource struct{ base }

func newDestructorResource() resource.Resource { return &destructorResource{} }

type destructorModel struct {
	ID          types.String `tfsdk:"id"`
	StackID     types.String `tfsdk:"stack_id"`
	Deactivated types.Bool   `tfsdk:"deactivated"`
	DiscardRuns types.Bool   `tfsdk:"discard_runs"`
	Timeouts    types.Object `tfsdk:"timeouts"`
}

func (r *destructorResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_stack_destructor"
}

func (r *destructorResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Deleting this resource destroys the stack's resources (a DESTROY run) and then the stack; " +
			"use depends_on to keep what that run needs until it has finished.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, PlanModifiers: keepID,
				// The real provider writes destructor-<unix seconds>; the
				// stack ID keeps the state deterministic and lets an import
				// recover stack_id from the ID alone.
				Description: "destructor-<stack_id>.",
			},
			// The real provider updates stack_id in place. Replacing
			// instead means a destructor moved to another stack destroys
			// the old stack's resources first, rather than leaving them to
			// a plain stack delete that would orphan them.
			"stack_id":     schema.StringAttribute{Required: true, PlanModifiers: replaceString},
			"deactivated":  schema.BoolAttribute{Optional: true, Description: "When true, deleting this resource destroys nothing."},
			"discard_runs": schema.BoolAttribute{Optional: true, Description: "Stored only: the sandbox has no runs to discard before a destroy."},
		},
		Blocks: map[string]schema.Block{
			"timeouts": schema.SingleNestedBlock{
				Attributes: map[string]schema.Attribute{
					"delete": schema.StringAttribute{
						Optional:    true,
						Description: `How long to wait for the destroy, a Go duration such as "30m"; defaults to 2h.`,
						Validators:  []validator.String{durationValidator{}},
					},
				},
			},
		},
	}
}

// durationValidator accepts what time.ParseDuration accepts, positive.
type durationValidator struct{}

func (durationValidator) Description(context.Context) string {
	return "a positive duration such as 30m or 2h"
}
func (v durationValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err == nil && d <= 0 {
		err = errors.New("must be positive")
	}
	if err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration", fmt.Sprintf("%q: %v", req.ConfigValue.ValueString(), err))
	}
}

func (m destructorModel) deleteTimeout() time.Duration {
	if m.Timeouts.IsNull() || m.Timeouts.IsUnknown() {
		return defaultDeleteTimeout
	}
	v, ok := m.Timeouts.Attributes()["delete"].(types.String)
	if !ok || v.IsNull() || v.IsUnknown() {
		return defaultDeleteTimeout
	}
	d, err := time.ParseDuration(v.ValueString())
	if err != nil || d <= 0 {
		return defaultDeleteTimeout // the validator refused it already
	}
	return d
}

func (r *destructorResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m destructorModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	// Nothing happens server-side until the delete; checking that the
	// stack exists catches a destructor pointed at a typo now rather than
	// at destroy time.
	stackID := m.StackID.ValueString()
	if _, err := r.client.GetStack(ctx, stackID); err != nil {
		apiError(&resp.Diagnostics, "find stack "+stackID+" for its destructor", err)
		return
	}
	m.ID = types.StringValue(destructorPrefix + stackID)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *destructorResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m destructorModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	if m.StackID.IsNull() {
		// An import: the ID names the stack.
		stackID, ok := strings.CutPrefix(m.ID.ValueString(), destructorPrefix)
		if !ok || stackID == "" {
			resp.Diagnostics.AddError("Invalid ID", fmt.Sprintf("stack destructor ID %q is not %s<stack_id>", m.ID.ValueString(), destructorPrefix))
			return
		}
		m.StackID = types.StringValue(stackID)
	}
	if m.Timeouts.IsUnknown() {
		m.Timeouts = types.ObjectNull(map[string]attr.Type{"delete": types.StringType})
	}
	_, err := r.client.GetStack(ctx, m.StackID.ValueString())
	if isNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read stack "+m.StackID.ValueString()+" of its destructor", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Update changes only arguments that matter at delete time.
func (r *destructorResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m destructorModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *destructorResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m destructorModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	stackID := m.StackID.ValueString()
	if m.Deactivated.ValueBool() {
		tflog.Info(ctx, "destructor deactivated: leaving the stack's resources alone", map[string]any{"stack": stackID})
		return
	}
	if err := destroyStack(ctx, r.client, stackID, m.deleteTimeout(), destroyPollInterval); err != nil {
		resp.Diagnostics.AddError("Spacelift: could not destroy stack "+stackID, err.Error())
	}
}

// destroyStack deletes a stack with destroy_resources and waits, polling
// every interval, until it is gone. A stack that leaves DELETING while it
// still exists had its destroy run fail.
func destroyStack(ctx context.Context, c *slapi.Client, stackID string, timeout, interval time.Duration) error {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("timeouts.delete (%s) expired", timeout))
	defer cancel()

	st, err := c.DeleteStack(ctx, stackID, true)
	switch {
	case isNotFound(err):
		return nil // gone already: nothing left to destroy
	case err != nil:
		return fmt.Errorf("queueing the destroy: %w", err)
	case st.ID == "":
		return nil // deleted at once (204)
	}
	tflog.Info(ctx, "destroy queued; waiting for the stack to go", map[string]any{"stack": stackID, "state": st.State})

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the destroy of stack %s (still %s): %w", stackID, st.State, context.Cause(ctx))
		case <-ticker.C:
		}
		st, err = c.GetStack(ctx, stackID)
		switch {
		case isNotFound(err):
			return nil
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("waiting for the destroy of stack %s: %w", stackID, context.Cause(ctx))
		case err != nil:
			return fmt.Errorf("polling stack %s: %w", stackID, err)
		case st.State != slapi.StateDeleting:
			return fmt.Errorf("destroy of stack %s failed: its state is now %s", stackID, st.State)
		}
	}
}

func (r *destructorResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

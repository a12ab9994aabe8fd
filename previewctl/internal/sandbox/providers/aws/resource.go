package awsprovider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// resourceDef is one resource type: its schema and what each operation does
// with the planned and prior values. Operations fill computed attributes of
// the object they get; whatever is still unknown afterwards becomes null.
type resourceDef struct {
	name   string
	schema schema.Schema
	// volatile are computed attributes that may change on any update: left
	// unknown in an update's plan. Every other computed attribute without a
	// configured value keeps its prior value (UseStateForUnknown), so that
	// an update does not make, say, invoke_arn unknown and ripple through
	// integrations into a deployment's triggers.
	volatile []string
	// plan adjusts a create's or update's plan (prior is nil on create).
	plan   func(ctx context.Context, c *client, plan, prior, config *obj, resp *resource.ModifyPlanResponse) error
	create func(ctx context.Context, c *client, plan *obj) error
	// read refreshes state; false means the object is gone.
	read   func(ctx context.Context, c *client, state *obj) (bool, error)
	update func(ctx context.Context, c *client, plan, prior *obj) error
	delete func(ctx context.Context, c *client, state *obj) error
}

type genericResource struct {
	def    *resourceDef
	client *client
}

var (
	_ resource.Resource               = (*genericResource)(nil)
	_ resource.ResourceWithConfigure  = (*genericResource)(nil)
	_ resource.ResourceWithModifyPlan = (*genericResource)(nil)
)

func (d *resourceDef) factory() func() resource.Resource {
	return func() resource.Resource { return &genericResource{def: d} }
}

func (r *genericResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = r.def.name
}

func (r *genericResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = r.def.schema
}

func (r *genericResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if c, ok := req.ProviderData.(*client); ok {
		r.client = c
	}
}

func (r *genericResource) fail(diags interface{ AddError(string, string) }, op string, o *obj, err error) {
	what := r.def.name
	if o != nil {
		if id := o.str("id"); id != "" {
			what += " " + id
		}
	}
	diags.AddError(fmt.Sprintf("%s: %s failed", what, op), err.Error())
}

func (r *genericResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	plan := objOrNil(req.Plan.Raw)
	if plan == nil {
		return // destroy
	}
	config := objOrNil(req.Config.Raw)
	prior := objOrNil(req.State.Raw)
	if config == nil {
		return
	}
	if prior != nil && len(resp.RequiresReplace) == 0 {
		volatile := map[string]bool{}
		for _, k := range r.def.volatile {
			volatile[k] = true
		}
		for k, a := range r.def.schema.Attributes {
			if a.IsComputed() && !plan.known(k) && config.isNull(k) && !volatile[k] {
				plan.v[k] = prior.v[k]
			}
		}
	}
	if _, ok := r.def.schema.Attributes["tags_all"]; ok && r.client != nil {
		if plan.known("tags") {
			plan.set("tags_all", mergeTags(r.client.defaultTags, plan.strMap("tags")))
		} else {
			plan.unknown("tags_all")
		}
	}
	if r.def.plan != nil {
		if err := r.def.plan(ctx, r.client, plan, prior, config, resp); err != nil {
			r.fail(&resp.Diagnostics, "plan", prior, err)
			return
		}
	}
	resp.Plan.Raw = plan.raw()
}

// needsClient reports a provider that was never configured (no client).
func (r *genericResource) needsClient(diags interface{ AddError(string, string) }) bool {
	if r.client == nil {
		diags.AddError(r.def.name+": provider not configured", "the aws provider's configuration was not applied before this resource")
		return true
	}
	return false
}

func (r *genericResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if r.needsClient(&resp.Diagnostics) {
		return
	}
	plan, err := newObj(req.Plan.Raw)
	if err != nil {
		r.fail(&resp.Diagnostics, "create", nil, err)
		return
	}
	if err := r.def.create(ctx, r.client, plan); err != nil {
		r.fail(&resp.Diagnostics, "create", plan, err)
		return
	}
	r.store(&resp.State.Raw, plan, &resp.Diagnostics, "create")
}

func (r *genericResource) store(dst *tftypes.Value, o *obj, diags interface{ AddError(string, string) }, op string) {
	v, err := resolveUnknowns(o.raw())
	if err != nil {
		r.fail(diags, op, o, err)
		return
	}
	*dst = v
}

func (r *genericResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	if r.needsClient(&resp.Diagnostics) {
		return
	}
	state, err := newObj(req.State.Raw)
	if err != nil {
		r.fail(&resp.Diagnostics, "read", nil, err)
		return
	}
	if r.def.read == nil {
		return // state-only: what was applied is what there is
	}
	found, err := r.def.read(ctx, r.client, state)
	if err != nil {
		r.fail(&resp.Diagnostics, "read", state, err)
		return
	}
	if !found {
		// Gone from the sandbox (deleted outside OpenTofu, or a fresh data
		// directory): the next plan creates it again.
		resp.State.RemoveResource(ctx)
		return
	}
	r.store(&resp.State.Raw, state, &resp.Diagnostics, "read")
}

func (r *genericResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	if r.needsClient(&resp.Diagnostics) {
		return
	}
	plan, err := newObj(req.Plan.Raw)
	if err != nil {
		r.fail(&resp.Diagnostics, "update", nil, err)
		return
	}
	prior, err := newObj(req.State.Raw)
	if err != nil {
		r.fail(&resp.Diagnostics, "update", nil, err)
		return
	}
	if r.def.update != nil {
		if err := r.def.update(ctx, r.client, plan, prior); err != nil {
			r.fail(&resp.Diagnostics, "update", prior, err)
			return
		}
	}
	r.store(&resp.State.Raw, plan, &resp.Diagnostics, "update")
}

func (r *genericResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	if r.needsClient(&resp.Diagnostics) {
		return
	}
	state, err := newObj(req.State.Raw)
	if err != nil {
		r.fail(&resp.Diagnostics, "delete", nil, err)
		return
	}
	if r.def.delete == nil {
		return
	}
	if err := r.def.delete(ctx, r.client, state); err != nil {
		r.fail(&resp.Diagnostics, "delete", state, err)
	}
}

// requireReplace marks attribute k as forcing replacement from plan().
func requireReplace(resp *resource.ModifyPlanResponse, k string) {
	resp.RequiresReplace = append(resp.RequiresReplace, path.Root(k))
}

// changed reports whether any of keys differs between plan and prior (an
// unknown planned value counts as a change).
func changed(plan, prior *obj, keys ...string) bool {
	if prior == nil {
		return true
	}
	for _, k := range keys {
		if !plan.known(k) || !plan.v[k].Equal(prior.v[k]) {
			return true
		}
	}
	return false
}

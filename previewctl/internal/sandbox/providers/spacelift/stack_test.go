package spacelift

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"preview-environments/previewctl/internal/sandbox/slapi"
)

func TestStackSpec(t *testing.T) {
	base := func() stackArgs {
		return stackArgs{Name: types.StringValue("Hello Service 42"), Repository: types.StringValue("r"), Branch: types.StringValue("main")}
	}
	tests := []struct {
		name  string
		args  func() stackArgs
		check func(t *testing.T, s slapi.StackSpec)
	}{
		{"defaults of the real provider", base, func(t *testing.T, s slapi.StackSpec) {
			if s.Slug != "hello-service-42" || s.SpaceID != "root" || !s.ManageState || s.Autodeploy || s.Administrative ||
				s.TerraformWorkflowTool != "TERRAFORM_FOSS" || s.TerraformSmartSanitization || s.Labels == nil {
				t.Errorf("%+v", s)
			}
		}},
		{"explicit values win", func() stackArgs {
			a := base()
			a.Slug, a.SpaceID, a.ManageState = types.StringValue("custom"), types.StringValue("legacy"), types.BoolValue(false)
			return a
		}, func(t *testing.T, s slapi.StackSpec) {
			if s.Slug != "custom" || s.SpaceID != "legacy" || s.ManageState {
				t.Errorf("%+v", s)
			}
		}},
		{"opentofu block: smart sanitization on by default", func() stackArgs {
			a := base()
			a.OpenTofu = []openTofuBlock{{Version: types.StringValue("1.10.6"), Workspace: types.StringValue("ws")}}
			return a
		}, func(t *testing.T, s slapi.StackSpec) {
			if s.TerraformWorkflowTool != "OPEN_TOFU" || s.TerraformVersion != "1.10.6" || s.TerraformWorkspace != "ws" || !s.TerraformSmartSanitization {
				t.Errorf("%+v", s)
			}
		}},
		{"opentofu block: custom tool, sanitization off", func() stackArgs {
			a := base()
			a.OpenTofu = []openTofuBlock{{WorkflowTool: types.StringValue("CUSTOM"), UseSmartSanitization: types.BoolValue(false)}}
			return a
		}, func(t *testing.T, s slapi.StackSpec) {
			if s.TerraformWorkflowTool != "CUSTOM" || s.TerraformSmartSanitization {
				t.Errorf("%+v", s)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var diags diag.Diagnostics
			tt.check(t, tt.args().spec(context.Background(), &diags))
			if diags.HasError() {
				t.Fatal(diags)
			}
		})
	}
}

func TestSameStack(t *testing.T) {
	planned := slapi.StackSpec{Name: "x", Repository: "r", Branch: "main", Labels: []string{"a", "b"}, ManageState: true, SpaceID: "root", TerraformWorkflowTool: "TERRAFORM_FOSS"}
	tests := []struct {
		name     string
		existing func(s slapi.StackSpec) slapi.StackSpec
		want     bool
	}{
		{"identical", func(s slapi.StackSpec) slapi.StackSpec { return s }, true},
		{"as a backend stores it", func(s slapi.StackSpec) slapi.StackSpec {
			s.Slug, s.Labels, s.AdditionalProjectGlobs = "x", []string{"b", "a"}, []string{}
			return s
		}, true},
		{"other branch", func(s slapi.StackSpec) slapi.StackSpec { s.Branch = "dev"; return s }, false},
		{"other labels", func(s slapi.StackSpec) slapi.StackSpec { s.Labels = []string{"a"}; return s }, false},
		{"other space", func(s slapi.StackSpec) slapi.StackSpec { s.SpaceID = "legacy"; return s }, false},
		{"unmanaged state", func(s slapi.StackSpec) slapi.StackSpec { s.ManageState = false; return s }, false},
	}
	for _, tt := range tests {
		if got := sameStack(tt.existing(planned), planned); got != tt.want {
			t.Errorf("%s: sameStack = %t, want %t", tt.name, got, tt.want)
		}
	}
}

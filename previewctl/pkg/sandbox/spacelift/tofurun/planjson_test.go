package tofurun

import (
	"slices"
	"testing"

	"preview-environments/previewctl/pkg/sandbox/spacelift/store"
)

// The plan JSON below is in the shape `tofu show -json` gives a saved plan
// (format 1.2): a data source read, a no-op, a creation with attributes
// unknown until apply, a replacement and a deletion.
const planFixture = `{
  "format_version": "1.2",
  "resource_changes": [
    {"address": "data.spacelift_current_stack.this", "mode": "data", "type": "spacelift_current_stack", "name": "this",
     "change": {"actions": ["read"], "before": null, "after": {"id": "m"}}},
    {"address": "spacelift_policy.push", "mode": "managed", "type": "spacelift_policy", "name": "push",
     "change": {"actions": ["no-op"], "before": {"id": "p"}, "after": {"id": "p"}}},
    {"address": "module.env_a.spacelift_stack.this", "mode": "managed", "type": "spacelift_stack", "name": "this",
     "change": {"actions": ["create"], "before": null, "after": {"name": "hello-service-a", "branch": "main"},
                "after_unknown": {"id": true}, "after_sensitive": {}}},
    {"address": "module.env_a.spacelift_environment_variable.tf_vars[\"code_version\"]", "mode": "managed",
     "type": "spacelift_environment_variable", "name": "tf_vars",
     "change": {"actions": ["delete", "create"], "before": {"stack_id": "hello-service-a", "value": "old"},
                "after": {"stack_id": "hello-service-a", "value": "new"}, "after_sensitive": {"value": true}}},
    {"address": "module.env_b.spacelift_stack_destructor.this", "mode": "managed", "type": "spacelift_stack_destructor", "name": "this",
     "change": {"actions": ["delete"], "before": {"stack_id": "hello-service-b"}, "after": null, "before_sensitive": {}}},
    {"address": "aws_api_gateway_deployment.this", "mode": "managed", "type": "aws_api_gateway_deployment", "name": "this",
     "change": {"actions": ["create", "delete"], "before": {"id": "d1"}, "after": {"rest_api_id": "r"}}},
    {"address": "aws_cloudwatch_log_group.function", "mode": "managed", "type": "aws_cloudwatch_log_group", "name": "function",
     "change": {"actions": ["update"], "before": {"retention_in_days": 7}, "after": {"retention_in_days": 14}}}
  ]
}`

func TestPlanChanges(t *testing.T) {
	got, err := PlanChanges([]byte(planFixture))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		action, address, key string
		value                any
		sensitive            []string
	}{
		{store.ActionAdded, "module.env_a.spacelift_stack.this", "name", "hello-service-a", nil},
		{store.ActionReplaced, `module.env_a.spacelift_environment_variable.tf_vars["code_version"]`, "value", "new", []string{"value"}},
		{store.ActionDeleted, "module.env_b.spacelift_stack_destructor.this", "stack_id", "hello-service-b", nil},
		{store.ActionReplacedCBD, "aws_api_gateway_deployment.this", "rest_api_id", "r", nil},
		{store.ActionChanged, "aws_cloudwatch_log_group.function", "retention_in_days", float64(14), nil},
	}
	if len(got) != len(want) {
		t.Fatalf("%d changes, want %d (reads and no-ops dropped): %+v", len(got), len(want), got)
	}
	for i, w := range want {
		c := got[i]
		if c.Action != w.action || c.Address != w.address || c.Phase != "plan" || c.Values[w.key] != w.value ||
			!slices.Equal(c.Sensitive, w.sensitive) {
			t.Errorf("change %d = %+v, want %s %s with %s=%v, sensitive %v", i, c, w.action, w.address, w.key, w.value, w.sensitive)
		}
	}
	if _, ok := got[0].Values["id"]; ok {
		t.Error("an attribute unknown until apply has a plan-phase value")
	}
}

func TestApplyChangesTakeStateValues(t *testing.T) {
	plan, err := PlanChanges([]byte(planFixture))
	if err != nil {
		t.Fatal(err)
	}
	// A state file as tofu writes it (format 4): module paths, for_each
	// keys and count indexes make the addresses plans use.
	state := []byte(`{"version":4,"terraform_version":"1.10.6","serial":3,"lineage":"x",
	  "outputs":{"url":{"value":"https://x/","type":"string"}},
	  "resources":[
	    {"mode":"managed","type":"aws_cloudwatch_log_group","name":"function","provider":"p",
	     "instances":[{"schema_version":0,"attributes":{"retention_in_days":14,"arn":"a"}}]},
	    {"module":"module.env_a","mode":"managed","type":"spacelift_stack","name":"this","provider":"p",
	     "instances":[{"attributes":{"id":"hello-service-a","name":"hello-service-a"}}]},
	    {"module":"module.env_a","mode":"managed","type":"spacelift_environment_variable","name":"tf_vars","provider":"p",
	     "instances":[{"index_key":"code_version","attributes":{"stack_id":"hello-service-a","value":"new"}}]},
	    {"mode":"managed","type":"aws_route53_record","name":"r","provider":"p",
	     "instances":[{"index_key":1,"attributes":{"fqdn":"x"}}]},
	    {"mode":"data","type":"spacelift_current_stack","name":"this","provider":"p","instances":[{"attributes":{"id":"m"}}]}
	  ]}`)
	vals, outs, err := StateValues(state)
	if err != nil {
		t.Fatal(err)
	}
	if outs["url"].Value != "https://x/" {
		t.Fatalf("outputs %+v", outs)
	}
	for _, addr := range []string{`module.env_a.spacelift_environment_variable.tf_vars["code_version"]`, "aws_route53_record.r[1]"} {
		if _, ok := vals[addr]; !ok {
			t.Errorf("no values for %s in %v", addr, vals)
		}
	}
	if _, ok := vals["data.spacelift_current_stack.this"]; ok || len(vals) != 4 {
		t.Errorf("data sources are not managed resources: %v", vals)
	}
	if _, _, err := StateValues([]byte(`{"version":3}`)); err == nil {
		t.Error("a state of another format version was read")
	}
	got := ApplyChanges(plan, vals)
	for _, tc := range []struct {
		address, key string
		want         any
	}{
		{"module.env_a.spacelift_stack.this", "id", "hello-service-a"},                  // known after apply
		{"module.env_b.spacelift_stack_destructor.this", "stack_id", "hello-service-b"}, // a deletion keeps its before
		{"aws_cloudwatch_log_group.function", "arn", "a"},
	} {
		i := slices.IndexFunc(got, func(c store.Change) bool { return c.Address == tc.address })
		if i < 0 || got[i].Phase != "apply" || got[i].Values[tc.key] != tc.want {
			t.Errorf("apply change of %s: %+v, want %s=%v", tc.address, got, tc.key, tc.want)
		}
	}
}

func TestActionName(t *testing.T) {
	for _, tc := range []struct {
		actions []string
		want    string
		ok      bool
	}{
		{[]string{"create"}, store.ActionAdded, true},
		{[]string{"update"}, store.ActionChanged, true},
		{[]string{"delete"}, store.ActionDeleted, true},
		{[]string{"delete", "create"}, store.ActionReplaced, true},
		{[]string{"create", "delete"}, store.ActionReplacedCBD, true},
		{[]string{"no-op"}, "", false},
		{[]string{"read"}, "", false},
	} {
		got, ok := actionName(tc.actions)
		if got != tc.want || ok != tc.ok {
			t.Errorf("actionName(%v) = %q, %v; want %q, %v", tc.actions, got, ok, tc.want, tc.ok)
		}
	}
}

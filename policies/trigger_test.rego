package spacelift_test

import data.spacelift
import data.testdata.trigger.code_version_update as default_sanitized
import data.testdata.trigger.new_and_deleted_smart as smart_sanitized

env_updated := "hello-service-5f3c2a1b"

env_new := "hello-service-44ee55ff"

env_deleted := "hello-service-0a1b2c3d"

stack_by_id(doc, id) := s if {
	some s in doc.stacks
	s.id == id
}

test_default_sanitization_triggers_only_the_changed_stack if {
	spacelift.trigger == {env_updated} with input as default_sanitized
}

test_smart_sanitization_plain_ids_trigger_updated_and_new if {
	spacelift.trigger == {env_updated, env_new} with input as smart_sanitized
}

test_plan_phase_changes_trigger_nothing if {
	plan_only := [c | some c in default_sanitized.run.changes; c.phase == "plan"]
	count(plan_only) > 0
	count(spacelift.trigger) == 0 with input as default_sanitized with input.run.changes as plan_only
}

# The plan-only entries do name a managed stack: only their phase keeps them out.
test_same_changes_in_apply_phase_do_trigger if {
	as_apply := [object.union(c, {"phase": "apply"}) | some c in default_sanitized.run.changes]
	spacelift.trigger == {env_updated, "hello-service-9e8d7c6b"} with input as default_sanitized with input.run.changes as as_apply
}

test_runs_that_did_not_finish_trigger_nothing if {
	every state in ["FAILED", "CANCELED", "DISCARDED", "STOPPED", "SKIPPED", "UNCONFIRMED", "APPLYING"] {
		count(spacelift.trigger) == 0 with input as default_sanitized with input.run.state as state
	}
}

test_runs_other_than_tracked_trigger_nothing if {
	every run_type in ["PROPOSED", "TASK", "TESTING", "DESTROY", "PARSE"] {
		count(spacelift.trigger) == 0 with input as default_sanitized with input.run.type as run_type
	}
}

test_another_manager_triggers_only_its_own_stacks if {
	other := stack_by_id(default_sanitized, "other-service-manager")
	spacelift.trigger == {"other-service-77aa88bb"} with input as default_sanitized with input.stack as other
}

test_stacks_of_another_manager_are_never_triggered if {
	not "other-service-77aa88bb" in spacelift.trigger with input as default_sanitized
	not "other-service-77aa88bb" in spacelift.trigger with input as smart_sanitized
}

test_environment_stack_run_triggers_nothing if {
	env := stack_by_id(default_sanitized, env_updated)
	count(spacelift.trigger) == 0 with input as default_sanitized with input.stack as env
}

test_no_op_run_triggers_nothing if {
	count(spacelift.trigger) == 0 with input as default_sanitized with input.run.changes as []
}

test_manager_never_triggers_itself if {
	self_label := "preview-environment-managed-by:hello-service-manager"
	stacks := [s | some orig in default_sanitized.stacks; s := with_self_label(orig, self_label)]
	self_change := object.union(default_sanitized.run.changes[2], {"entity": {"data": {"values": {"stack_id": sanitized("hello-service-manager")}}}})
	changes := array.concat(default_sanitized.run.changes, [self_change])
	spacelift.trigger == {env_updated} with input as default_sanitized with input.stacks as stacks with input.run.changes as changes
}

with_self_label(s, label) := object.union(s, {"labels": array.concat(s.labels, [label])}) if s.id == "hello-service-manager"

with_self_label(s, _) := s if s.id != "hello-service-manager"

test_new_environment_is_triggered_by_added_variables if {
	env_new in spacelift.trigger with input as smart_sanitized
	added := [c |
		some c in smart_sanitized.run.changes
		c.entity.type == "spacelift_environment_variable"
		c.entity.data.values.stack_id == env_new
	]
	every c in added {
		c.action == "added"
	}
}

# A variable change on a stack the same run deletes: triggering it would
# start a run on a stack being destroyed.
deleted_env_var_change := object.union(smart_sanitized.run.changes[0], {"entity": {"data": {"values": {"stack_id": env_deleted}}}})

test_deleted_environment_is_not_triggered if {
	changes := array.concat(smart_sanitized.run.changes, [deleted_env_var_change])
	not env_deleted in spacelift.trigger with input as smart_sanitized with input.run.changes as changes
}

test_deleted_environment_detected_by_destructor_alone if {
	changes := array.concat(
		[c | some c in smart_sanitized.run.changes; c.entity.type != "spacelift_stack"],
		[deleted_env_var_change],
	)
	not env_deleted in spacelift.trigger with input as smart_sanitized with input.run.changes as changes
}

# Without the deletion entries the same variable change does trigger: it is
# the deletion, not the variable, that keeps the stack out above.
test_variable_change_without_deletion_triggers if {
	changes := array.concat(
		[c | some c in smart_sanitized.run.changes; not c.action == "deleted"],
		[deleted_env_var_change],
	)
	spacelift.trigger == {env_updated, env_new, env_deleted} with input as smart_sanitized with input.run.changes as changes
}

test_context_variables_and_outputs_trigger_nothing if {
	others := [c |
		some c in default_sanitized.run.changes
		c.entity.type != "spacelift_environment_variable"
	]
	ctx_vars := [c |
		some c in default_sanitized.run.changes
		c.entity.data.values.stack_id == null
	]
	count(others) > 0
	count(ctx_vars) > 0
	count(spacelift.trigger) == 0 with input as default_sanitized with input.run.changes as array.concat(others, ctx_vars)
}

test_every_replace_and_create_action_triggers if {
	every action in ["added", "changed", "create-Before-destroy-replaced", "destroy-Before-create-replaced"] {
		change := object.union(smart_sanitized.run.changes[0], {"action": action})
		spacelift.trigger == {env_updated} with input as smart_sanitized with input.run.changes as [change]
	}
}

test_delete_import_forget_actions_trigger_nothing if {
	every action in ["deleted", "import", "forget"] {
		change := object.union(smart_sanitized.run.changes[0], {"action": action})
		count(spacelift.trigger) == 0 with input as smart_sanitized with input.run.changes as [change]
	}
}

test_sanitized_matches_documented_samples if {
	sanitized("exampledb") == "59832d41"
	sanitized("mysql") == "eae35047"
	sanitized("5.7") == "fc40d152"
	sanitized("db.t3.micro") == "4f8189cd"
	sanitized("default.mysql5.7") == "bead1390"
}

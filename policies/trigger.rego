# Trigger policy for a preview-environments manager stack.
#
# Attached to the manager stack (uploaded by setup/ with engine_type REGO_V1).
# When a tracked manager run has applied, it triggers every environment stack
# of this manager whose spacelift_environment_variable resources were created
# or changed by that run, so a PR push that only bumps code_version redeploys
# exactly that one environment.
package spacelift

# Only a tracked run that reached FINISHED has applied anything. FAILED,
# CANCELED, DISCARDED, STOPPED and SKIPPED runs, proposed runs and tasks
# trigger nothing, and a no-op tracked run (FINISHED without changes) has
# nothing to trigger anyway.
manager_run_applied if {
	input.run.type == "TRACKED"
	input.run.state == "FINISHED"
}

# Stacks created by this manager carry this label (see the manager template).
managed_label := concat("", ["preview-environment-managed-by:", input.stack.id])

# The provider marks every argument of spacelift_environment_variable
# ForceNew, so an updated value shows up as a replacement, not as "changed".
# "added" is a new environment's first variables. "deleted" alone is left out:
# it means the variable (and usually its stack) is going away.
env_var_trigger_actions := {
	"added",
	"changed",
	"create-Before-destroy-replaced",
	"destroy-Before-create-replaced",
}

# stack_id values of the variables the run changed. Under Spacelift's default
# sanitization they are sanitized(stack id); under smart sanitization (the
# default with the provider's opentofu {} block) stack_id is not sensitive and
# arrives in plain text. The set holds whichever form arrived; each stack is
# then looked up in it by both forms, which keeps the cost linear:
# one pass over the changes, one pass over the stacks, set look-ups between.
changed_stack_refs contains ref if {
	some change in input.run.changes
	change.phase == "apply"
	change.entity.type == "spacelift_environment_variable"
	change.action in env_var_trigger_actions
	ref := change.entity.data.values.stack_id
	is_string(ref)
}

# Stacks this same run is deleting: triggering them would start a run on a
# stack that is being destroyed.
deleted_stack_refs contains ref if {
	some change in input.run.changes
	change.phase == "apply"
	change.action == "deleted"
	change.entity.type == "spacelift_stack"
	ref := change.entity.data.values.id
	is_string(ref)
}

deleted_stack_refs contains ref if {
	some change in input.run.changes
	change.phase == "apply"
	change.action == "deleted"
	change.entity.type == "spacelift_stack_destructor"
	ref := change.entity.data.values.stack_id
	is_string(ref)
}

refers_to(refs, stack_id) if stack_id in refs

refers_to(refs, stack_id) if sanitized(stack_id) in refs

# No trigger loops: the triggered stacks are only stacks labelled as managed
# by the stack whose run finished, never that stack itself, and only for
# variables that this run actually changed. An environment stack manages no
# stacks, so its own runs trigger nothing even if this policy were attached
# to it, and a manager run that changes nothing triggers nothing.
trigger contains stack.id if {
	manager_run_applied
	count(changed_stack_refs) > 0
	some stack in input.stacks
	stack.id != input.stack.id
	managed_label in stack.labels
	refers_to(changed_stack_refs, stack.id)
	not refers_to(deleted_stack_refs, stack.id)
}

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

# What an apply-phase change means for the stack it names, by resource type
# and action, and which attribute holds that stack's ID.
#
# The provider marks every argument of spacelift_environment_variable
# ForceNew, so an updated value shows up as a replacement, not as "changed".
# "added" is a new environment's first variables. A deleted variable alone
# triggers nothing: it means the variable (and usually its stack) is going.
# A deleted stack or destructor marks a stack this same run is deleting;
# triggering it would start a run on a stack being destroyed.
change_kinds := {
	"spacelift_environment_variable": {
		"added": "changed",
		"changed": "changed",
		"create-Before-destroy-replaced": "changed",
		"destroy-Before-create-replaced": "changed",
	},
	"spacelift_stack": {"deleted": "deleted"},
	"spacelift_stack_destructor": {"deleted": "deleted"},
}

stack_id_attribute := {
	"spacelift_environment_variable": "stack_id",
	"spacelift_stack": "id",
	"spacelift_stack_destructor": "stack_id",
}

# [kind, stack reference] for every apply-phase change that matters, built in
# ONE pass over the changes. The reference is the stack ID as the run reports
# it: sanitized(stack id) under Spacelift's default sanitization, the plain
# ID under smart sanitization (the default with the provider's opentofu {}
# block: stack_id is not a sensitive attribute). Each stack is then looked up
# in this set by both forms, so the cost is linear: one pass over the
# changes, one pass over the stacks, set look-ups in between.
stack_refs contains [kind, ref] if {
	# Bound once, outside the loop: looking up a local value per change is
	# several times cheaper than going through the rule each time.
	kinds := change_kinds
	attributes := stack_id_attribute
	some change in input.run.changes
	change.phase == "apply"
	entity := change.entity
	resource_type := entity.type
	kind := kinds[resource_type][change.action]
	ref := entity.data.values[attributes[resource_type]]
}

# No trigger loops: the triggered stacks are only stacks labelled as managed
# by the stack whose run finished, never that stack itself, and only for
# variables that this run actually changed. An environment stack manages no
# stacks, so its own runs trigger nothing even if this policy were attached
# to it, and a manager run that changes nothing triggers nothing.
#
# A stack is triggered if the run changed a variable naming it by either
# form of its ID, and not if the run deletes it under either form. The
# look-ups are written out in the body rather than through a helper
# function: at 10,000 stacks the function calls cost more than the rest of
# the loop together.
trigger contains id if {
	manager_run_applied

	# Bound once, outside the loop over the stacks.
	label := managed_label
	manager := input.stack.id
	refs := stack_refs
	some stack in input.stacks
	label in stack.labels
	id := stack.id
	id != manager
	hashed := sanitized(id)
	some ref in [id, hashed]
	["changed", ref] in refs
	not ["deleted", id] in refs
	not ["deleted", hashed] in refs
}

# Push policy for preview environment stacks.
#
# Attached to every environment stack by the manager template. An environment
# stack runs infra/ at its own branch (the PR head branch when the PR changes
# infra/, else the default branch); code_version changes reach it through the
# manager's trigger policy, not through pushes.
package spacelift

# Paths are compared with "/" trimmed from both ends, as Spacelift does. A
# stack without a project root (null or absent) covers the whole repository.
project_root := trim(input.stack.project_root, "/") if {
	is_string(input.stack.project_root)
} else := ""

# Unlike Spacelift's default rule (a plain prefix test), the root must match
# whole path segments: root "infra" is not touched by "infrastructure/x".
touches_project(_) if project_root == ""

touches_project(file) if trim(file, "/") == project_root

touches_project(file) if startswith(trim(file, "/"), concat("", [project_root, "/"]))

touches_project(file) if {
	some pattern in object.get(input.stack, "additional_project_globs", [])
	glob.match(pattern, ["/"], trim(file, "/"))
}

affected if {
	some file in input.push.affected_files
	touches_project(file)
}

is_tag_push if input.push.tag != ""

# PR events (opened, labeled, edited, closed...) replay the head commit; the
# plain push event for that commit already arrived, or arrives, on its own.
# Tracking on them would redeploy on a label or deploy a closed PR.
is_pr_event if input.pull_request != null

on_stack_branch if input.push.branch == input.stack.branch

track if {
	not is_tag_push
	not is_pr_event
	on_stack_branch
	affected
}

# Preview stacks never propose. Each one already applies its PR's infra/
# for real, which is the preview; a proposed run on every preview stack for
# every PR touching infra/ would multiply runs by the number of live
# environments and, posting a check per stack, flood each PR with checks
# that say nothing the tracked run does not. CI validates infra/ itself.
default propose := false

# Any ignore wins over track in Spacelift. Ignoring everything that is not
# tracked makes the decision explicit in the log instead of relying on the
# "nothing matched" default.
ignore if is_tag_push

ignore if not track

# Why the push was ignored, for the decision log; not a Spacelift rule.
reasons contains "tag push" if is_tag_push

reasons contains "pull request event, not a push" if is_pr_event

reasons contains msg if {
	not on_stack_branch
	msg := sprintf("branch %q is not the stack's branch %q", [input.push.branch, input.stack.branch])
}

reasons contains msg if {
	not affected
	msg := sprintf("no affected file under project root %q or its additional globs", [project_root])
}

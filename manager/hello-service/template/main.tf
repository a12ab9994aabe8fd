locals {
  # Each key becomes TF_VAR_<key> on the stack; the keys are infra/'s
  # variable names (infra/variables.tf is the source of truth).
  tf_vars = {
    environment     = var.environment_id
    service         = var.service
    code_version    = var.code_version
    artifact_bucket = var.shared.artifact_bucket
    domain_name     = var.shared.domain_name
    certificate_arn = var.shared.certificate_arn
    hosted_zone_id  = var.shared.hosted_zone_id
    aws_region      = var.shared.aws_region
  }

  # The data stack (infra/data) holds what the service reads at request
  # time. Its variables are a subset of the service's, none of which a push
  # of new code changes, so the trigger policy never re-runs it for one.
  data_stack = var.shared.data_stack
  data_tf_vars = {
    environment = var.environment_id
    service     = var.service
    aws_region  = var.shared.aws_region
  }

  # infra/data's outputs -> the service stack's inputs (infra/variables.tf).
  # A reference re-runs the service only when the output it names changes.
  references = {
    bucket       = "TF_VAR_greeting_bucket"
    greeting_key = "TF_VAR_greeting_key"
  }

  # What the environment previews: a PR, or an on-demand environment named
  # by hand. gc and the dashboard tell the two apart by these labels.
  ondemand = var.kind == "ondemand"
  subject  = local.ondemand ? "on-demand environment ${var.name}" : "${var.pr_owner}/${var.pr_repository}#${var.pr_number}"
  identity_labels = local.ondemand ? [
    "preview-kind:ondemand",
    "preview-name:${var.name}",
    ] : [
    "preview-pr-owner:${var.pr_owner}",
    "preview-pr-repository:${var.pr_repository}",
    "preview-pr-number:${var.pr_number}",
  ]
  labels = concat(
    [
      "preview-environment-managed-by:${var.shared.manager_stack_id}",
      "preview_environment_id:${var.environment_id}",
    ],
    local.identity_labels,
    ["preview-expires-at:${var.expires_at}"],
  )
}

resource "spacelift_stack" "this" {
  name         = "${var.service}-${var.environment_id}"
  description  = "Preview of ${local.subject}, expires ${var.expires_at}"
  repository   = var.shared.repository
  branch       = var.infra_branch
  project_root = "infra"
  space_id     = var.shared.space_id
  autodeploy   = true

  # Default (not smart) sanitization: the manager's trigger policy matches
  # sanitized(stack id) against the stack_id of changed variables.
  terraform_workflow_tool = "OPEN_TOFU"
  terraform_version       = var.shared.opentofu_version

  labels = concat(local.labels, ["preview-stack:service"])

  lifecycle {
    # A PR's file sets pr_owner, pr_repository and pr_number and no name;
    # an on-demand one sets kind = "ondemand" and name and no pr_*.
    precondition {
      condition     = local.ondemand ? (var.name != "" && var.pr_owner == null && var.pr_repository == null && var.pr_number == null) : (var.name == "" && var.pr_owner != null && var.pr_repository != null && var.pr_number != null)
      error_message = "A PR environment needs pr_owner, pr_repository and pr_number and no name; an on-demand environment (kind = \"ondemand\") needs a name and no pr_* variables."
    }
  }
}

resource "spacelift_environment_variable" "tf_vars" {
  for_each = local.tf_vars

  stack_id = spacelift_stack.this.id
  name     = "TF_VAR_${each.key}"
  value    = each.value
  # Readable so the trigger policy and the sandbox can compare values.
  write_only = false
}

resource "spacelift_policy_attachment" "push" {
  policy_id = var.shared.push_policy_id
  stack_id  = spacelift_stack.this.id
}

resource "spacelift_aws_integration_attachment" "aws" {
  integration_id = var.shared.aws_integration_id
  stack_id       = spacelift_stack.this.id
  read           = true
  write          = true
}

# Deleting this resource runs the destroy of infra/ before the stack goes.
# Everything that destroy run needs (credentials, variables, the push policy
# that keeps the stack on its branch) must outlive it, hence depends_on.
resource "spacelift_stack_destructor" "this" {
  stack_id = spacelift_stack.this.id

  # The references are the service's destroy-time inputs too: they go only
  # after its destroy, and with them the dependency, and only then the data
  # stack's destructor (a stack with dependents cannot be deleted). So the
  # service is destroyed before the data it reads, and the data last.
  depends_on = [
    spacelift_environment_variable.tf_vars,
    spacelift_policy_attachment.push,
    spacelift_aws_integration_attachment.aws,
    spacelift_stack_dependency_reference.data,
  ]
}

resource "spacelift_stack" "data" {
  count = local.data_stack ? 1 : 0

  name         = "${var.service}-${var.environment_id}-data"
  description  = "Data of the preview of ${local.subject}, expires ${var.expires_at}"
  repository   = var.shared.repository
  branch       = var.infra_branch
  project_root = "infra/data"
  space_id     = var.shared.space_id
  autodeploy   = true

  terraform_workflow_tool = "OPEN_TOFU"
  terraform_version       = var.shared.opentofu_version

  labels = concat(local.labels, ["preview-stack:data"])
}

resource "spacelift_environment_variable" "data_tf_vars" {
  for_each = local.data_stack ? local.data_tf_vars : {}

  stack_id   = spacelift_stack.data[0].id
  name       = "TF_VAR_${each.key}"
  value      = each.value
  write_only = false
}

resource "spacelift_policy_attachment" "data_push" {
  count = local.data_stack ? 1 : 0

  policy_id = var.shared.push_policy_id
  stack_id  = spacelift_stack.data[0].id
}

resource "spacelift_aws_integration_attachment" "data_aws" {
  count = local.data_stack ? 1 : 0

  integration_id = var.shared.aws_integration_id
  stack_id       = spacelift_stack.data[0].id
  read           = true
  write          = true
}

resource "spacelift_stack_destructor" "data" {
  count = local.data_stack ? 1 : 0

  stack_id = spacelift_stack.data[0].id

  depends_on = [
    spacelift_environment_variable.data_tf_vars,
    spacelift_policy_attachment.data_push,
    spacelift_aws_integration_attachment.data_aws,
  ]
}

# The service's tracked runs wait for the data stack's, and a changed
# referenced output re-runs the service. Created after (so deleted before)
# the data stack's destructor.
resource "spacelift_stack_dependency" "data" {
  count = local.data_stack ? 1 : 0

  stack_id            = spacelift_stack.this.id
  depends_on_stack_id = spacelift_stack.data[0].id

  depends_on = [spacelift_stack_destructor.data]
}

resource "spacelift_stack_dependency_reference" "data" {
  for_each = local.data_stack ? local.references : {}

  stack_dependency_id = spacelift_stack_dependency.data[0].id
  output_name         = each.key
  input_name          = each.value
}

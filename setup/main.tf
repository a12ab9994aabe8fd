# Run once, by hand or from an administrative stack, with a Spacelift API key
# (SPACELIFT_API_KEY_ENDPOINT, SPACELIFT_API_KEY_ID, SPACELIFT_API_KEY_SECRET).
provider "spacelift" {}

locals {
  # Each key becomes TF_VAR_<key> on the manager stack; the keys are
  # manager/'s root variable names.
  tf_vars = {
    service            = var.service
    preview_domain     = var.preview_domain
    hosted_zone_id     = var.hosted_zone_id
    aws_region         = var.aws_region
    artifact_bucket    = var.artifact_bucket
    aws_integration_id = spacelift_aws_integration.this.id
    repository         = var.repository
    space_id           = var.space_id
    opentofu_version   = var.opentofu_version
  }
}

resource "spacelift_stack" "manager" {
  name                     = var.manager_stack_name
  description              = "Creates one stack per preview environment from manager/${var.service}/environments/"
  repository               = var.repository
  branch                   = var.branch
  project_root             = "manager"
  additional_project_globs = ["policies/**"]
  space_id                 = var.space_id
  autodeploy               = true

  # Default (not smart) sanitization: the trigger policy compares
  # sanitized(stack id) with the stack_id of changed variables.
  terraform_workflow_tool = "OPEN_TOFU"
  terraform_version       = var.opentofu_version

  labels = ["preview-environments", "preview-environments-manager"]
}

# The manager creates stacks, variables and policies in its space: it gets the
# space-admin role there instead of the deprecated administrative flag.
data "spacelift_role" "space_admin" {
  name = "Space admin"
}

resource "spacelift_role_attachment" "manager" {
  role_id  = data.spacelift_role.space_admin.id
  space_id = var.space_id
  stack_id = spacelift_stack.manager.id
}

resource "spacelift_aws_integration" "this" {
  name     = "${var.manager_stack_name}-aws"
  role_arn = var.aws_role_arn
  space_id = var.space_id
  region   = var.aws_region
  labels   = ["preview-environments"]
}

resource "spacelift_aws_integration_attachment" "manager" {
  integration_id = spacelift_aws_integration.this.id
  stack_id       = spacelift_stack.manager.id
  read           = true
  write          = true
}

# Re-runs every environment stack whose TF_VAR_* variables a manager run
# changed: a variable change alone does not start a run.
resource "spacelift_policy" "trigger" {
  name        = "${var.manager_stack_name}: trigger environments"
  type        = "TRIGGER"
  engine_type = "REGO_V1"
  body        = file("${path.module}/../policies/trigger.rego")
  space_id    = var.space_id
  labels      = ["preview-environments"]
}

resource "spacelift_policy_attachment" "trigger" {
  policy_id = spacelift_policy.trigger.id
  stack_id  = spacelift_stack.manager.id
}

resource "spacelift_environment_variable" "tf_vars" {
  for_each = local.tf_vars

  stack_id   = spacelift_stack.manager.id
  name       = "TF_VAR_${each.key}"
  value      = each.value
  write_only = false
}

# Destroying setup destroys the manager's resources, hence every environment;
# the manager's destroy run needs its role, credentials and variables.
resource "spacelift_stack_destructor" "manager" {
  stack_id = spacelift_stack.manager.id

  depends_on = [
    spacelift_role_attachment.manager,
    spacelift_aws_integration_attachment.manager,
    spacelift_policy_attachment.trigger,
    spacelift_environment_variable.tf_vars,
  ]
}

# Root of the manager stack (setup/ creates it with project_root = "manager").
# Inside a Spacelift run both providers take their credentials from the run:
# the spacelift provider from the stack's space-admin role attachment, aws from
# the attached AWS integration.
provider "aws" {
  region = var.aws_region
}

provider "spacelift" {}

data "spacelift_current_stack" "this" {}

# A fork that renames the service renames this folder and module; nothing
# else in the tree names it.
module "hello_service" {
  source = "./hello-service"

  service            = var.service
  preview_domain     = var.preview_domain
  hosted_zone_id     = var.hosted_zone_id
  aws_region         = var.aws_region
  artifact_bucket    = var.artifact_bucket
  aws_integration_id = var.aws_integration_id
  repository         = var.repository
  space_id           = var.space_id
  opentofu_version   = var.opentofu_version
  data_stack         = var.data_stack
  manager_stack_id   = data.spacelift_current_stack.this.id
}

variable "shared" {
  type = object({
    manager_stack_id   = string
    space_id           = string
    repository         = string
    domain_name        = string
    hosted_zone_id     = string
    certificate_arn    = string
    push_policy_id     = string
    aws_integration_id = string
    artifact_bucket    = string
    aws_region         = string
    opentofu_version   = string
    data_stack         = bool
  })
  description = "Settings common to every environment; each generated file passes it to ../template as shared = var.shared."
}

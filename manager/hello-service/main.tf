locals {
  domain_name = "${var.service}.${var.preview_domain}"
}

# Keeps each environment stack on its own branch; attached by the template.
resource "spacelift_policy" "push" {
  name        = "${var.service} preview environments: push"
  type        = "GIT_PUSH"
  engine_type = "REGO_V1"
  body        = file("${path.module}/../../policies/push.rego")
  space_id    = var.space_id
  labels      = ["preview-environments", var.service]
}

# One wildcard certificate serves every environment's specific domain name
# <id>.<service>.<preview_domain>, so environments need no certificate of
# their own (and no per-environment validation wait or ACM quota).
resource "aws_acm_certificate" "wildcard" {
  domain_name       = "*.${local.domain_name}"
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "validation" {
  for_each = {
    for o in aws_acm_certificate.wildcard.domain_validation_options : o.domain_name => o
  }

  zone_id         = var.hosted_zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "wildcard" {
  certificate_arn         = aws_acm_certificate.wildcard.arn
  validation_record_fqdns = [for r in aws_route53_record.validation : r.fqdn]
}

module "environments" {
  source = "./environments"

  shared = {
    manager_stack_id   = var.manager_stack_id
    space_id           = var.space_id
    repository         = var.repository
    domain_name        = local.domain_name
    hosted_zone_id     = var.hosted_zone_id
    certificate_arn    = aws_acm_certificate_validation.wildcard.certificate_arn
    push_policy_id     = spacelift_policy.push.id
    aws_integration_id = var.aws_integration_id
    artifact_bucket    = var.artifact_bucket
    aws_region         = var.aws_region
    opentofu_version   = var.opentofu_version
    data_stack         = var.data_stack
  }
}

output "domain_name" {
  description = "The service's preview domain; environments are <id>.<domain_name>."
  value       = local.domain_name
}

output "certificate_arn" {
  description = "ARN of the validated wildcard certificate."
  value       = aws_acm_certificate_validation.wildcard.certificate_arn
}

output "push_policy_id" {
  description = "ID of the GIT_PUSH policy attached to every environment stack."
  value       = spacelift_policy.push.id
}

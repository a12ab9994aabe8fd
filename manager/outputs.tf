output "domain_name" {
  description = "The service's preview domain; environments are <id>.<domain_name>."
  value       = module.hello_service.domain_name
}

output "certificate_arn" {
  description = "ARN of the validated wildcard certificate."
  value       = module.hello_service.certificate_arn
}

output "push_policy_id" {
  description = "ID of the push policy attached to every environment stack."
  value       = module.hello_service.push_policy_id
}

output "stack_id" {
  description = "ID (slug) of the environment's Spacelift stack."
  value       = spacelift_stack.this.id
}

output "url" {
  description = "The environment's public URL once its stack has applied."
  value       = "https://${var.environment_id}.${var.shared.domain_name}/"
}

output "data_stack_id" {
  description = "ID (slug) of the environment's data stack, which the service stack depends on; null without one."
  value       = local.data_stack ? spacelift_stack.data[0].id : null
}

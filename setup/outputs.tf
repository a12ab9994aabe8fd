output "manager_stack_id" {
  description = "ID (slug) of the manager stack."
  value       = spacelift_stack.manager.id
}

output "aws_integration_id" {
  description = "ID of the AWS integration shared by the manager and the environment stacks."
  value       = spacelift_aws_integration.this.id
}

output "trigger_policy_id" {
  description = "ID of the trigger policy attached to the manager stack."
  value       = spacelift_policy.trigger.id
}

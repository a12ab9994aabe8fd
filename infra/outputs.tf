output "url" {
  description = "The environment's public URL, https://<environment>.<domain_name>/."
  value       = "https://${aws_route53_record.this.fqdn}/"
}

output "invoke_url" {
  description = "The stage's default execute-api URL (bypasses the custom domain)."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.handler.function_name
}

output "log_group" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.function.name
}

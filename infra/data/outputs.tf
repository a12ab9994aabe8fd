# The manager template maps these outputs to the service stack's TF_VARs
# with spacelift_stack_dependency_reference: renaming one is a change of
# that contract (manager/<service>/template/main.tf, local.references).

output "bucket" {
  description = "Name of the environment's data bucket."
  value       = aws_s3_bucket.data.id
}

output "greeting_key" {
  description = "Key of the greeting object in the bucket."
  value       = aws_s3_object.greeting.key
}

output "greeting_etag" {
  description = "ETag of the greeting object (changes with the greeting; for people and tests, not referenced)."
  value       = aws_s3_object.greeting.etag
}

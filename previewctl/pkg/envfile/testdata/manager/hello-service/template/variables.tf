# Fixture: the template's variables as docs/DEVELOPING.md fixes them. Tests
# also read the real manager/hello-service/template when it is committed.
variable "environment_id" {
  type        = string
  description = "The environment ID."
}
variable "service" {
  type        = string
  description = "The service name."
}
variable "kind" {
  type        = string
  default     = "pr"
  description = "pr or ondemand; a PR's file does not set it."
}
variable "name" {
  type        = string
  default     = ""
  description = "An on-demand environment's name."
}
variable "pr_owner" {
  type        = string
  default     = null
  description = "Owner of the PR's base repository (PR only)."
}
variable "pr_repository" {
  type        = string
  default     = null
  description = "The PR's base repository (PR only)."
}
variable "pr_number" {
  type        = number
  default     = null
  description = "The PR number (PR only)."
}
variable "code_version" {
  type        = string
  description = "40-hex sha or latest."
}
variable "infra_branch" {
  type        = string
  description = "Branch whose infra/ the stack runs."
}
variable "created_at" {
  type        = string
  description = "RFC 3339 UTC."
}
variable "expires_at" {
  type        = string
  description = "RFC 3339 UTC."
}
variable "shared" {
  type = object({
    domain = string
  })
  description = "Shared pieces from the manager."
}
variable "labels" {
  type        = list(string)
  default     = []
  description = "Optional: has a default, so previewctl need not set it."
}

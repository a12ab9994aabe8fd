module "env_e6e556f2" {
  source         = "../template"
  environment_id = "e6e556f2"
  service        = "hello-service"
  pr_owner       = "Octo-Org"
  pr_repository  = "Hello-Service"
  pr_number      = 7
  code_version   = "0123456789abcdef0123456789abcdef01234567"
  infra_branch   = "main"
  created_at     = "2026-11-28T05:00:00Z"
  expires_at     = "2026-12-05T05:00:00Z"
  shared         = var.shared
}

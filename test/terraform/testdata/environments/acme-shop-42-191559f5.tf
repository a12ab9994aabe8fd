module "env_191559f5" {
  source         = "../template"
  environment_id = "191559f5"
  service        = "hello-service"
  pr_owner       = "acme"
  pr_repository  = "shop"
  pr_number      = 42
  code_version   = "latest"
  infra_branch   = "feature/x"
  created_at     = "2026-11-28T05:00:00Z"
  expires_at     = "2026-12-05T05:00:00Z"
  shared         = var.shared
}

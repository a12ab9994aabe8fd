module "env_o6ef4836" {
  source         = "../template"
  environment_id = "o6ef4836"
  service        = "hello-service"
  kind           = "ondemand"
  name           = "qa-checkout"
  code_version   = "0123456789abcdef0123456789abcdef01234567"
  infra_branch   = "feature/x"
  created_at     = "2026-11-28T05:00:00Z"
  expires_at     = "2026-11-30T05:00:00Z"
  shared         = var.shared
}

# A deliberate typo (project_roots): the schema check must reject this file.
resource "spacelift_stack" "typo" {
  name          = "typo"
  repository    = "preview-environments"
  branch        = "main"
  project_roots = "infra"
}

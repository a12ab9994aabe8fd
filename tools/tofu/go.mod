module preview-environments/tools/tofu

go 1.26

// OpenTofu's own go.mod replaces hcl with its fork; a tool build must copy that
// replace or it does not compile. It lives in this separate module so that the
// fork never reaches the project's own code.
replace github.com/hashicorp/hcl/v2 v2.20.1 => github.com/opentofu/hcl/v2 v2.20.2-0.20250121132637-504036cd70e7

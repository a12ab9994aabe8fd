# One generated file per live environment sits next to this one:
#   <lower owner>-<lower repo>-<N>-<id>.tf, holding a single
#   module "env_<id>" { source = "../template" ... shared = var.shared }
# written by `previewctl render` through the update-file-action. Do not edit
# those files by hand; close or reopen the pull request instead.

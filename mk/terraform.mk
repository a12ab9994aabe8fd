# Terraform/OpenTofu checks for infra/, manager/ and setup/.
#
# Nothing here may reach a registry: the CLI config written below only knows
# the filesystem mirror of hashicorp/aws these machines carry, and excludes
# direct installation. Only infra/ is validated with a real provider; the
# Spacelift provider is not available offline, which is what the schema
# snapshot checks in test/terraform cover.

TF_DIRS       := infra manager setup
TF_CLI_CONFIG := $(ROOT)/.cache/tf/cli.tfrc
TF_MIRROR     ?= /opt/tf-plugins
TF_AWS_MIRROR := $(TF_MIRROR)/registry.terraform.io/hashicorp/aws

.PHONY: tf-fmt tf-fmt-check tf-validate tf-cli-config

LINT_TARGETS += tf-fmt-check
TEST_TARGETS += tf-fmt-check tf-validate

fmt: tf-fmt

$(TF_CLI_CONFIG): $(ROOT)/mk/terraform.mk
	@mkdir -p $(@D)
	@printf '%s\n' \
	  'provider_installation {' \
	  '  filesystem_mirror {' \
	  '    path    = "$(TF_MIRROR)"' \
	  '    include = ["registry.terraform.io/hashicorp/aws"]' \
	  '  }' \
	  '  direct {' \
	  '    exclude = ["*/*/*"]' \
	  '  }' \
	  '}' > $@

tf-cli-config: $(TF_CLI_CONFIG)

tf-fmt: $(TOFU) ## format Terraform sources (tofu fmt)
	cd $(ROOT) && $(TOFU) fmt -recursive infra && $(TOFU) fmt -recursive manager && $(TOFU) fmt -recursive setup

tf-fmt-check: $(TOFU) $(TF_CLI_CONFIG) ## check Terraform formatting (tofu fmt -check)
	@cd $(ROOT) && for d in $(TF_DIRS); do $(TOFU) fmt -check -recursive -diff $$d || { echo "tofu fmt: $$d is not formatted; run make fmt"; exit 1; }; done

# init -backend=false in a throw-away data dir and lock file location, so
# neither .terraform/ nor a lock file lands in the tree.
tf-validate: $(TOFU) $(TF_CLI_CONFIG) ## tofu validate infra/ against the local aws provider mirror
	@if [ ! -d "$(TF_AWS_MIRROR)" ]; then echo "tf-validate: skipped, no hashicorp/aws filesystem mirror at $(TF_AWS_MIRROR)"; exit 0; fi; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp -r $(ROOT)/infra/. "$$tmp/"; rm -rf "$$tmp/.terraform" "$$tmp/.terraform.lock.hcl"; \
	cd "$$tmp" && TF_DATA_DIR="$$tmp/.terraform" $(TOFU) init -backend=false -input=false -no-color >/dev/null && \
	TF_DATA_DIR="$$tmp/.terraform" $(TOFU) validate -no-color

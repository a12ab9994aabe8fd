# Terraform/OpenTofu checks for infra/, manager/ and setup/.
#
# Nothing here may reach a registry: the CLI config written below only knows
# the filesystem mirror of hashicorp/aws these machines carry, and excludes
# direct installation. Only infra/ is validated with a real provider; the
# Spacelift provider is not available offline, which is what the schema
# snapshot checks in test/terraform cover.

TF_DIRS       := infra manager setup
TF_CLI_CONFIG := $(TF_CLI_CONFIG_FILE)
TF_MIRROR     ?= /opt/tf-plugins
TF_AWS_MIRROR := $(TF_MIRROR)/registry.terraform.io/hashicorp/aws

.PHONY: tf-fmt tf-fmt-check tf-validate tf-cli-config

LINT_TARGETS += tf-fmt-check
TEST_TARGETS += tf-fmt-check tf-validate

fmt: tf-fmt

# Rewritten on every use (it is tiny) so a TF_MIRROR override always takes.
tf-cli-config:
	@mkdir -p $(dir $(TF_CLI_CONFIG))
	@printf '%s\n' \
	  'provider_installation {' \
	  '  filesystem_mirror {' \
	  '    path    = "$(TF_MIRROR)"' \
	  '    include = ["registry.terraform.io/hashicorp/aws"]' \
	  '  }' \
	  '  direct {' \
	  '    exclude = ["*/*/*"]' \
	  '  }' \
	  '}' > $(TF_CLI_CONFIG)

tf-fmt: $(TOFU) ## format Terraform sources (tofu fmt)
	cd $(ROOT) && $(TOFU) fmt -recursive infra && $(TOFU) fmt -recursive manager && $(TOFU) fmt -recursive setup

tf-fmt-check: $(TOFU) tf-cli-config ## check Terraform formatting (tofu fmt -check)
	@cd $(ROOT) && for d in $(TF_DIRS); do $(TOFU) fmt -check -recursive -diff $$d || { echo "tofu fmt: $$d is not formatted; run make fmt"; exit 1; }; done

# init -backend=false in a throw-away data dir and lock file location, so
# neither .terraform/ nor a lock file lands in the tree.
tf-validate: $(TOFU) tf-cli-config ## tofu validate infra/ against the local aws provider mirror
	@if [ ! -d "$(TF_AWS_MIRROR)" ]; then echo "tf-validate: skipped, no hashicorp/aws filesystem mirror at $(TF_AWS_MIRROR)"; exit 0; fi; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp -r $(ROOT)/infra/. "$$tmp/"; rm -rf "$$tmp/.terraform" "$$tmp/.terraform.lock.hcl"; \
	cd "$$tmp" && TF_DATA_DIR="$$tmp/.terraform" $(TOFU) init -backend=false -input=false -no-color >/dev/null && \
	TF_DATA_DIR="$$tmp/.terraform" $(TOFU) validate -no-color

# Regenerates the aws schema snapshot the offline checks use, from the real
# provider binary in the mirror, keeping only the types infra/, manager/ and
# setup/ use. Run after using a new aws resource or data source type.
TF_AWS_VERSION ?= 5.100.0
.PHONY: tf-schema-aws
tf-schema-aws: $(TOFU) tf-cli-config ## regenerate test/terraform/testdata/schema/aws.json from the aws provider mirror
	@test -d "$(TF_AWS_MIRROR)" || { echo "tf-schema-aws: no hashicorp/aws filesystem mirror at $(TF_AWS_MIRROR)"; exit 1; }
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp $(ROOT)/infra/versions.tf "$$tmp/"; \
	cd "$$tmp" && TF_DATA_DIR="$$tmp/.terraform" $(TOFU) init -backend=false -input=false -no-color >/dev/null && \
	TF_DATA_DIR="$$tmp/.terraform" $(TOFU) providers schema -json > "$$tmp/schema.json" && \
	cd $(ROOT) && go run ./test/terraform/cmd/schemasnap -provider registry.terraform.io/hashicorp/aws \
	  -version $(TF_AWS_VERSION) -captured $$(date -u +%F) -root $(ROOT) infra manager setup \
	  < "$$tmp/schema.json" > "$$tmp/aws.json" && mv "$$tmp/aws.json" $(ROOT)/test/terraform/testdata/schema/aws.json
	@echo "wrote test/terraform/testdata/schema/aws.json"

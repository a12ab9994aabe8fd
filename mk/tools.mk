# Pinned tools from tools/go.mod (tool directives) and tools/tofu/go.mod.
# Built with GOWORK=off: the tool modules are not part of the workspace, so
# their dependency versions never leak into the project's build list.

TOOLS_TARGETS += $(TOOLS_STAMP)

$(TOOLS_STAMP): $(ROOT)/tools/go.mod $(ROOT)/tools/go.sum
	@mkdir -p $(BIN)
	cd $(ROOT)/tools && GOWORK=off GOBIN=$(BIN) go install tool
	@touch $@

# OpenTofu takes ~2 minutes to build cold; only the targets that need it pull it in.
$(TOFU): $(ROOT)/tools/tofu/go.mod $(ROOT)/tools/tofu/go.sum
	@mkdir -p $(BIN)
	cd $(ROOT)/tools/tofu && GOWORK=off GOBIN=$(BIN) go install tool
	@touch $@

.PHONY: actionlint
LINT_TARGETS += actionlint
actionlint: $(TOOLS_STAMP)
	cd $(ROOT) && $(BIN)/actionlint

# The sandbox's own terraform-provider-spacelift and terraform-provider-aws
# (previewctl/internal/sandbox/providers), which OpenTofu loads from bin/
# through dev_overrides in the sandbox's CLI config: runs never reach a
# registry. make test needs them and OpenTofu, since sandbox runs are real
# tofu runs.
SANDBOX_PROVIDERS := $(BIN)/terraform-provider-spacelift $(BIN)/terraform-provider-aws
TOOLS_TARGETS += $(SANDBOX_PROVIDERS) $(TOFU)
PROVIDER_SRCS := $(shell find $(ROOT)/previewctl/internal $(ROOT)/previewctl/cmd -name '*.go' -not -name '*_test.go' 2>/dev/null) $(ROOT)/previewctl/go.mod $(ROOT)/previewctl/go.sum

$(BIN)/terraform-provider-%: $(PROVIDER_SRCS)
	@mkdir -p $(BIN)
	cd $(ROOT)/previewctl && go build -trimpath -o $@ ./cmd/terraform-provider-$*

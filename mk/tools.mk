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

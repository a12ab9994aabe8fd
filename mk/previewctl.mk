# previewctl/: the CLI (id, render, ls, gc, wait, sandbox). `go test`
# (go-test) runs its tests, including the fuzz seeds; fuzzing proper and the
# benchmarks are separate targets.

PREVIEWCTL_DIR := $(ROOT)/previewctl

BUILD_TARGETS += $(BIN)/previewctl

# previewctl links the service, policies and update-file-action modules too.
$(BIN)/previewctl: $(shell find $(PREVIEWCTL_DIR) $(ROOT)/update-file-action $(ROOT)/policies $(ROOT)/service \( -name '*.go' -o -name 'go.mod' -o -name '*.rego' \) -not -name '*_test.go' 2>/dev/null)
	@mkdir -p $(BIN)
	cd $(PREVIEWCTL_DIR) && go build -o $@ ./cmd/previewctl

.PHONY: fuzz-previewctl
fuzz-previewctl: ## fuzz render/parse for FUZZTIME (default 60s): refuse, or round-trip with no live interpolation
	cd $(PREVIEWCTL_DIR) && go test -run '^$$' -fuzz FuzzRender -fuzztime $(or $(FUZZTIME),60s) ./pkg/envfile

# update-file-action/: the GitHub Action's Go program, its Apply core and the
# contents-API stand-in. `go test` (go-test) runs its tests; nothing extra.

UFA_DIR := $(ROOT)/update-file-action

BUILD_TARGETS += $(BIN)/update-file-action
BENCH_TARGETS += bench-update-file-action

$(BIN)/update-file-action: $(UFA_DIR)/go.mod $(UFA_DIR)/go.sum $(shell find $(UFA_DIR) -name '*.go' -not -name '*_test.go')
	@mkdir -p $(BIN)
	cd $(UFA_DIR) && go build -o $@ ./cmd/update-file-action

.PHONY: update-file-action bench-update-file-action
update-file-action: $(BIN)/update-file-action ## build bin/update-file-action


bench-update-file-action: ## 100 concurrent writers on one branch: wall time and retries per run
	go test -run '^$$' -bench . -benchmem -count 1 ./update-file-action/...

# update-file-action/: the GitHub Action's Go program, its Apply core and the
# contents-API stand-in. `go test` (go-test) runs its tests; nothing extra.

UFA_DIR := $(ROOT)/update-file-action

BUILD_TARGETS += $(BIN)/update-file-action

$(BIN)/update-file-action: $(UFA_DIR)/go.mod $(UFA_DIR)/go.sum $(shell find $(UFA_DIR) -name '*.go' -not -name '*_test.go')
	@mkdir -p $(BIN)
	cd $(UFA_DIR) && go build -o $@ ./cmd/update-file-action

.PHONY: update-file-action
update-file-action: $(BIN)/update-file-action ## build bin/update-file-action


# Rego policies (policies/): the opa CLI with Spacelift's sanitized() builtin,
# and the checks `go test` cannot do (opa check, opa fmt, coverage gate).

OPA          := $(BIN)/opa
POLICIES_DIR := $(ROOT)/policies
# Only the top-level files: these are what Terraform uploads and what the tests cover.
POLICY_REGO   = $(wildcard $(POLICIES_DIR)/*.rego)
OPA_COVERAGE_MIN := 90

TOOLS_TARGETS += $(OPA)
TEST_TARGETS  += opa-test
LINT_TARGETS  += opa-check opa-fmt-check

# Rebuilt when the module or the builtin changes; a cold build is ~1 minute.
$(OPA): $(POLICIES_DIR)/go.mod $(POLICIES_DIR)/go.sum $(filter-out %_test.go,$(wildcard $(POLICIES_DIR)/*.go)) $(POLICIES_DIR)/cmd/opa/main.go
	@mkdir -p $(BIN)
	cd $(POLICIES_DIR) && go build -o $(OPA) ./cmd/opa

.PHONY: opa-test opa-check opa-fmt-check opa-unit

opa-check: $(OPA) ## opa check --strict on the policies and their tests
	cd $(POLICIES_DIR) && $(OPA) check --strict $(notdir $(POLICY_REGO))

opa-fmt-check: $(OPA) ## fail if opa fmt would change a policy file
	cd $(POLICIES_DIR) && $(OPA) fmt --list --fail $(notdir $(POLICY_REGO))

opa-unit: $(OPA)
	cd $(POLICIES_DIR) && $(OPA) test -v .
	cd $(POLICIES_DIR) && $(OPA) test --coverage --threshold $(OPA_COVERAGE_MIN) . > /dev/null || \
		{ echo "policy coverage is below $(OPA_COVERAGE_MIN)% (see: cd policies && opa test --coverage .)"; exit 1; }

opa-test: opa-check opa-fmt-check opa-unit ## Rego: check --strict, fmt clean, opa test -v, coverage >= 90%

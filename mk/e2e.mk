# End-to-end suites (test/e2e). `go test` (go-test) already runs their
# offline tests and skips every cloud test with one line naming the missing
# variables; `make e2e` runs the long suites on purpose and says which
# backends ran. See test/README.md, "End-to-end tests".

E2E_DIR := $(ROOT)/test/e2e
E2E_LOG := $(ROOT)/.cache/e2e/last.log
# Longest path: lifecycle (deploy 30 + redeploy 20 + destroy 2x20 min) and
# the infra suite run one after the other; 150 min is their sum plus margin.
E2E_TIMEOUT ?= 150m
# The cloud tests; the sandbox backend's test joins once test/e2e/sandbox exists.
E2E_CLOUD_RUN   := ^(TestLifecycleCloud|TestInfraApply|TestApplyAgainstGitHub)$$
E2E_SANDBOX_PKG := $(wildcard $(E2E_DIR)/sandbox)
E2E_RUN         := $(if $(E2E_SANDBOX_PKG),^(TestLifecycleCloud|TestInfraApply|TestApplyAgainstGitHub|TestLifecycleSandbox)$$,$(E2E_CLOUD_RUN))
# Building OpenTofu takes ~2 minutes: only when the infra suite can run.
E2E_TOFU := $(if $(E2E_ARTIFACT_BUCKET),$(TOFU))

.PHONY: e2e e2e-cleanup

e2e: $(E2E_TOFU) ## end-to-end suites: cloud (needs credentials, see test/README.md) and, once built, sandbox
	@mkdir -p $(dir $(E2E_LOG))
	@status=0; \
	cd $(ROOT)/test && go test -count=1 -v -timeout $(E2E_TIMEOUT) -run '$(E2E_RUN)' ./e2e/... 2>&1 | tee $(E2E_LOG) || status=$$?; \
	echo; echo "e2e summary (full log: $(E2E_LOG)):"; \
	grep -E '^\s*--- (PASS|FAIL|SKIP): Test(LifecycleCloud|InfraApply|ApplyAgainstGitHub|LifecycleSandbox)' $(E2E_LOG) | sed 's/^ */  /' || true; \
	grep -E 'skipped, cloud credentials not set' $(E2E_LOG) | sed 's/^ *[a-z_]*\.go:[0-9]*: /  /' || true; \
	if grep -qE -- '--- (PASS|FAIL): Test(LifecycleCloud|InfraApply|ApplyAgainstGitHub)' $(E2E_LOG); then echo "  backend cloud: ran"; else echo "  backend cloud: did not run (credentials missing)"; fi; \
	if [ -n "$(E2E_SANDBOX_PKG)" ]; then echo "  backend sandbox: ran"; else echo "  backend sandbox: not built yet (test/e2e/sandbox)"; fi; \
	exit $$status

e2e-cleanup: ## destroy what interrupted e2e runs left (state in test/.e2e-state)
	cd $(ROOT)/test && E2E_CLEANUP=1 go test -count=1 -v -timeout 60m -run '^TestCleanupLeftovers$$' ./e2e/...

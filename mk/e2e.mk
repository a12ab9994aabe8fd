# End-to-end suites (test/e2e). `go test` (go-test) already runs their
# offline tests and skips every cloud test with one line naming the missing
# variables; `make e2e` runs the long suites on purpose and says which
# backends ran. See test/README.md, "End-to-end tests".

E2E_LOG := $(ROOT)/.cache/e2e/last.log
# Longest path: lifecycle (deploy 30 + redeploy 20 + destroy 2x20 min) and
# the infra suite run one after the other; 150 min is their sum plus margin.
E2E_TIMEOUT ?= 150m
# The cloud tests skip without credentials; the sandbox ones always run
# (aws-lambda-rie from the tools stamp, nothing else).
E2E_RUN := ^(TestLifecycleCloud|TestInfraApply|TestApplyAgainstGitHub|TestLifecycleSandbox|TestScenarioFailureDiagnostics)$$
# Building OpenTofu takes ~2 minutes: only when the infra suite can run.
E2E_TOFU := $(if $(E2E_ARTIFACT_BUCKET),$(TOFU))

.PHONY: e2e e2e-cleanup

e2e: $(TOOLS_STAMP) $(E2E_TOFU) ## end-to-end suites: sandbox (always) and cloud (needs credentials, see test/README.md)
	@mkdir -p $(dir $(E2E_LOG))
	@status=0; \
	cd $(ROOT)/test && go test -count=1 -v -timeout $(E2E_TIMEOUT) -run '$(E2E_RUN)' ./e2e/... 2>&1 | tee $(E2E_LOG) || status=$$?; \
	echo; echo "e2e summary (full log: $(E2E_LOG)):"; \
	grep -E '^\s*--- (PASS|FAIL|SKIP): Test(LifecycleCloud|InfraApply|ApplyAgainstGitHub|LifecycleSandbox|ScenarioFailureDiagnostics)' $(E2E_LOG) | sed 's/^ */  /' || true; \
	grep -E 'skipped, cloud credentials not set' $(E2E_LOG) | sed 's/^ *[a-z_]*\.go:[0-9]*: /  /' || true; \
	if grep -qE -- '--- (PASS|FAIL): Test(LifecycleCloud|InfraApply|ApplyAgainstGitHub)' $(E2E_LOG); then echo "  backend cloud: ran"; else echo "  backend cloud: did not run (credentials missing)"; fi; \
	if grep -qE -- '--- (PASS|FAIL): TestLifecycleSandbox' $(E2E_LOG); then echo "  backend sandbox: ran"; else echo "  backend sandbox: did not run (see the log)"; fi; \
	exit $$status

e2e-cleanup: ## destroy what interrupted e2e runs left (state in test/.e2e-state)
	cd $(ROOT)/test && E2E_CLEANUP=1 go test -count=1 -v -timeout 60m -run '^TestCleanupLeftovers$$' ./e2e/...

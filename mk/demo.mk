# make demo: the whole pull-request lifecycle on an in-process sandbox,
# narrated with elapsed times (previewctl/pkg/demo, `previewctl demo`).
# It needs bin/previewctl, bin/aws-lambda-rie, OpenTofu and the sandbox
# providers (its runs are real tofu runs), so it builds them first
# and works on a fresh clone. Its end-to-end test runs in go-test; its
# benchmark (BenchmarkPREventToURL) in make bench.
#
#   make demo            run it, exit 0 when every step was observed
#   make demo KEEP=1     leave the sandbox running afterwards (Ctrl-C stops it)
#   make demo ADDR=127.0.0.1:9090   listen elsewhere (default 127.0.0.1:8080,
#                                   or a free port when that one is taken)

.PHONY: demo

demo: $(BIN)/previewctl $(TOOLS_STAMP) $(TOFU) $(SANDBOX_PROVIDERS) ## the PR lifecycle on the local sandbox, narrated (KEEP=1 leaves it running)
	cd $(ROOT) && $(BIN)/previewctl demo $(if $(filter 1 yes true,$(KEEP)),--keep) $(if $(ADDR),--addr '$(ADDR)')

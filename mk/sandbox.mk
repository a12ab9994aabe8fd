# Sandbox data plane (previewctl/pkg/sandbox): S3, Lambda (AWS's Runtime
# Interface Emulator) and API Gateway stand-ins on loopback. Its tests run in
# go-test (they need bin/aws-lambda-rie from `make tools`); its benchmarks run
# in make bench (make bench-sandbox for these alone; see mk/bench.mk).

.PHONY: sandbox-up

sandbox-up: $(TOOLS_STAMP) $(TOFU) $(SANDBOX_PROVIDERS) ## run the sandbox in the foreground (ADDR=127.0.0.1:8080)
	go run ./previewctl/cmd/previewctl sandbox up --addr $(or $(ADDR),127.0.0.1:8080) --data $(ROOT)/.sandbox

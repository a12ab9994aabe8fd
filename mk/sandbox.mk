# Sandbox data plane (previewctl/pkg/sandbox): S3, Lambda (AWS's Runtime
# Interface Emulator) and API Gateway stand-ins on loopback. Its tests run in
# go-test (they need bin/aws-lambda-rie from `make tools`); benchmarks here.

BENCH_TARGETS += bench-sandbox

.PHONY: bench-sandbox sandbox-up

bench-sandbox: $(TOOLS_STAMP) ## gateway vs direct emulator throughput, cold start of a new version
	go test -run '^$$' -bench GatewayVsDirect -benchtime 4000x -count 1 ./previewctl/pkg/sandbox/
	go test -run '^$$' -bench ColdStart -benchtime 100x -count 1 ./previewctl/pkg/sandbox/

sandbox-up: $(TOOLS_STAMP) ## run the sandbox in the foreground (ADDR=127.0.0.1:8080)
	go run ./previewctl/cmd/previewctl sandbox up --addr $(or $(ADDR),127.0.0.1:8080) --data $(ROOT)/.sandbox

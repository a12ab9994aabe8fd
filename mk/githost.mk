# previewctl/pkg/sandbox/githost: the sandbox's GitHub stand-in on real git.
# Its tests run in go-test (they need only the git CLI); benchmarks here.

BENCH_TARGETS += bench-githost

.PHONY: bench-githost
bench-githost: ## githost: commit+event latency, 100 racing contents-API writers, monorepo import
	@mkdir -p $(ROOT)/bench/raw
	go test -run '^$$' -bench 'CommitFilesEvent|ImportMonorepo' -benchtime 50x -count 1 ./previewctl/pkg/sandbox/githost | tee $(ROOT)/bench/raw/githost.txt
	go test -run '^$$' -bench ContentsAPI100Writers -benchtime 3x -count 1 ./previewctl/pkg/sandbox/githost | tee -a $(ROOT)/bench/raw/githost.txt

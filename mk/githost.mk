# previewctl/pkg/sandbox/githost: the sandbox's GitHub stand-in on real git.
# Its tests run in go-test (they need only the git CLI); its benchmarks run
# in make bench (make bench-githost for these alone; see mk/bench.mk).

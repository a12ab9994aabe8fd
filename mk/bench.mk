# bench/: `make bench` is one orchestrated pass over every Go benchmark of
# the workspace (bench/cmd/benchreport finds them in the source), one package
# at a time, bounded to 10 minutes. It writes bench/results.md (the issue's
# goal rows with pass/fail, every other figure, the machine) and the raw
# output (bench/results.txt, committed for benchstat; bench/raw/, ignored).
# Go benchmarks need no make target of their own: a new Benchmark* function
# is picked up by name; a custom -benchtime goes in bench/report/plan.go.

BENCHREPORT := go run ./bench/cmd/benchreport

BENCH_TARGETS += bench-report

# One part's benchmarks, e.g. `make bench-githost`: the same runs as
# make bench, restricted to that part's packages (DIR:FUNC regexp). They
# print the table and leave bench/results.md alone.
BENCH_PART_githost            := ^previewctl/pkg/sandbox/githost:
BENCH_PART_sandbox            := ^previewctl/pkg/sandbox(/.*)?:
BENCH_PART_dashboard          := ^previewctl/pkg/sandbox/dashboard:
BENCH_PART_previewctl         := ^previewctl/pkg/envfile:
BENCH_PART_policies           := ^policies:
BENCH_PART_service            := ^service/
BENCH_PART_terraform          := ^test/terraform:
BENCH_PART_update-file-action := ^update-file-action/

.PHONY: bench-report bench-cold bench-list

bench-report: $(TOOLS_STAMP)
	@extra='$(filter-out bench-report,$(BENCH_TARGETS))'; if [ -n "$$extra" ]; then \
	  echo "bench: BENCH_TARGETS also runs $$extra; Go benchmarks are found and run by benchreport, so those targets only repeat them" >&2; fi
	$(BENCHREPORT) $(if $(BENCH_ONLY),-only '$(BENCH_ONLY)')

bench-%: $(TOOLS_STAMP)
	@test -n '$(BENCH_PART_$*)' || { echo "bench-$*: no such part (parts: $(patsubst BENCH_PART_%,%,$(filter BENCH_PART_%,$(.VARIABLES))))"; exit 2; }
	$(BENCHREPORT) -only '$(BENCH_PART_$*)'

bench-list: ## print the go test commands make bench runs
	@$(BENCHREPORT) -list

bench-cold: ## make test on a cold cache (fresh clone, empty Go caches), recorded in bench/cold-test.txt for make bench
	$(ROOT)/bench/cold-test.sh

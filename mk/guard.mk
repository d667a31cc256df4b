# The guard, the read-only watcher: dist/guard.zip holds "bootstrap" for the
# provided.al2023 runtime on arm64, built reproducibly like dist/lambda.zip by
# the rules of mk/lambda.mk (LAMBDA_FUNCS), which also add it to ARTIFACTS and
# TEST_DEPS. A separate binary and role from the opt-in function, so neither
# slows the other.
GUARD_ZIP := $(DIST)/guard.zip

BENCHES += bench-guard

.PHONY: guard bench-guard
guard: $(GUARD_ZIP)

# Cold start and peak RSS under the local Runtime API, calls per sweep of
# the 2,000-instance bench cluster beside doctor's, and calls per
# state-change event. Figures go in docs/benchmarks.md.
bench-guard: $(GUARD_ZIP)
	$(GO) test -run '^$$' -bench '^BenchmarkColdStart$$' -benchtime 1x -count 1 ./guard
	$(GO) run ./guard/bench
	@echo "guard zip: $$(wc -c < $(GUARD_ZIP)) bytes ($(GUARD_ZIP))"

# The guard, the read-only watcher: dist/guard.zip holds "bootstrap" for the
# provided.al2023 runtime on arm64, built reproducibly like dist/lambda.zip
# (trimmed paths, no build id, no VCS stamp, fixed zip times and modes). A
# separate binary and role from the opt-in function, so neither slows the other.
GUARD_BOOTSTRAP := $(BIN)/guard-linux-arm64/bootstrap
GUARD_ZIP := $(DIST)/guard.zip
GUARD_SRCS := $(shell find guard internal -name '*.go' -not -name '*_test.go' -not -path '*/testutil/*' 2>/dev/null) go.mod go.sum

ARTIFACTS += $(GUARD_ZIP)
BENCHES += bench-guard
# The emulator tests run the arm64 bootstrap from the zip under qemu.
TEST_DEPS += $(GUARD_ZIP)

.PHONY: guard bench-guard
guard: $(GUARD_ZIP)

$(GUARD_BOOTSTRAP): $(GUARD_SRCS)
	@mkdir -p $(@D)
	GOOS=linux GOARCH=arm64 $(GOBUILD) -buildvcs=false -tags lambda.norpc -o $@ ./guard

$(GUARD_ZIP): $(GUARD_BOOTSTRAP) internal/buildtool/detzip/main.go
	@mkdir -p $(@D)
	$(GO) run ./internal/buildtool/detzip -o $@ bootstrap=$(GUARD_BOOTSTRAP)
	@echo "$@: $$(wc -c < $@) bytes, sha256 $$(sha256sum $@ | cut -d' ' -f1)"

# Cold start and peak RSS under the local Runtime API, calls per sweep of
# the 2,000-instance bench cluster beside doctor's, and calls per
# state-change event. Figures go in docs/benchmarks.md.
bench-guard: $(GUARD_ZIP)
	$(GO) test -run '^$$' -bench '^BenchmarkColdStart$$' -benchtime 1x -count 1 ./guard
	$(GO) run ./guard/bench
	@echo "guard zip: $$(wc -c < $(GUARD_ZIP)) bytes ($(GUARD_ZIP))"

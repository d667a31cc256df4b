# Reading at the scale of an organization (internal/fleet): its benchmark.
BENCHES += bench-fleet

.PHONY: bench-fleet

# A cluster read fanned out over 300 accounts x 4 Regions (1-3 clusters of
# 20 container instances each), 50 ms per API call, simulated, both by
# internal/fleet directly and as `trunkctl instances --org --all-clusters`:
# calls vs the minimum, wall vs minimum / concurrency x latency, peak calls
# in flight and peak memory. First the same three modes on a virtual clock
# (testing/synctest: the schedule's own wall time, the same under any load;
# `make test` holds its targets), then on the real clock.
BENCH_FLEET_FLAGS ?= -accounts 300 -latency 50ms -concurrency 16,64
bench-fleet:
	$(GO) test -count=1 -run '^TestFanOutOnAVirtualClock$$' -v ./cli/benchfleet | grep -v '^=== RUN'
	$(GO) run ./cli/benchfleet $(BENCH_FLEET_FLAGS)

# trunkctl rollout (internal/rollout): its benchmark on a simulated cluster.
BENCHES += bench-rollout

.PHONY: bench-rollout
# 200 stale c5.large in 4 Auto Scaling groups, 400 service tasks,
# --max-unavailable 10%, 90 s launch, 30 s registration, 60 s drain, 50 ms per
# call, on a virtual clock, without and with --max-surge 100% side by side
# (each on a fresh cluster): duration vs its floor, API calls, CPU time, and
# the lowest share of each service's tasks running. Fails on a missed target.
BENCH_ROLLOUT_FLAGS ?= -instances 200 -groups 4 -tasks 400 -max-unavailable 10% -max-surge 0,100% -launch 90s -register 30s -drain 60s -latency 50ms
bench-rollout:
	$(GO) run ./internal/rollout/bench $(BENCH_ROLLOUT_FLAGS)

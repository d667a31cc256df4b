# trunkctl (cli/): the dist/trunkctl binary and its scale benchmark.
TRUNKCTL_BIN := $(DIST)/trunkctl
ARTIFACTS += $(TRUNKCTL_BIN)
BENCHES += bench-cli

.PHONY: trunkctl bench-cli trunkctl-force
trunkctl: $(TRUNKCTL_BIN)

# Always handed to go build, whose cache decides what is stale.
$(TRUNKCTL_BIN): trunkctl-force
	@mkdir -p $(DIST)
	$(GOBUILD_STAMPED) -o $@ ./cli/trunkctl

trunkctl-force:

# `trunkctl instances` and `trunkctl enis` against a simulated cluster of
# 2,000 container instances and 10,000 awsvpc tasks, 50 ms per API call:
# API calls made vs the minimum the API maxima allow, and wall time.
BENCH_CLI_FLAGS ?= -instances 2000 -tasks 10000 -latency 50ms
bench-cli:
	$(GO) run ./cli/bench $(BENCH_CLI_FLAGS)

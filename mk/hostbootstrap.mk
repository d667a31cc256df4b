# hostbootstrap: static linux binaries for user data, and its benchmark.
HOSTBOOTSTRAP_BINS := $(DIST)/hostbootstrap-linux-amd64 $(DIST)/hostbootstrap-linux-arm64
ARTIFACTS += $(HOSTBOOTSTRAP_BINS)
BENCHES += bench-hostbootstrap
# A test runs the arm64 binary under qemu.
TEST_DEPS += $(DIST)/hostbootstrap-linux-arm64

.PHONY: hostbootstrap bench-hostbootstrap hostbootstrap-force
hostbootstrap: $(HOSTBOOTSTRAP_BINS)

# Always handed to go build, whose cache decides what is stale.
$(DIST)/hostbootstrap-linux-%: hostbootstrap-force
	@mkdir -p $(DIST)
	GOOS=linux GOARCH=$* $(GOBUILD_STAMPED) -o $@ ./hostbootstrap

hostbootstrap-force:

# Binary sizes (target <= 10 MB each) and start -> ecs.config written on a
# host that already has the agent, against the IMDS mock (median of 20, target <= 50 ms).
bench-hostbootstrap: $(HOSTBOOTSTRAP_BINS) tools
	@for f in $(HOSTBOOTSTRAP_BINS); do \
	  stat -c '%s %n' $$f | awk '{ printf "%s: %d bytes = %.2f MB (target <= 10 MB: %s)\n", $$2, $$1, $$1/1e6, ($$1 <= 10e6 ? "met" : "MISSED") }'; \
	done
	TRUNKCTL_HOSTBOOTSTRAP_BIN=$(abspath $(DIST))/hostbootstrap-linux-$$($(GO) env GOARCH) \
	  $(GO) test -run '^$$' -bench '^BenchmarkStartToConfigWritten$$' -benchtime 1x -count 1 ./hostbootstrap/

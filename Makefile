# trunkctl build. `make` builds every artifact, `make test` runs the tests.
# Each component adds its targets in mk/<component>.mk: artifacts to ARTIFACTS,
# benchmarks to BENCHES, extra test set-up to TEST_DEPS.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
DIST := dist
BIN := bin
# Reproducible, small binaries.
GOBUILD := CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w -buildid='
# trunkctl and hostbootstrap say which commit they were built from (`version`):
# from git here, from goreleaser in releases. Outside a checkout they say "dev".
BUILDINFO := github.com/trunkctl/trunkctl/internal/buildinfo
GIT_VERSION := $(shell git describe --tags --always --dirty 2>/dev/null)
GIT_COMMIT := $(shell git rev-parse HEAD 2>/dev/null)
GIT_DATE := $(shell git log -1 --format=%cI 2>/dev/null)
GOBUILD_STAMPED := CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w -buildid= \
  $(if $(GIT_VERSION),-X $(BUILDINFO).version=$(GIT_VERSION)) \
  $(if $(GIT_COMMIT),-X $(BUILDINFO).commit=$(GIT_COMMIT)) \
  $(if $(GIT_DATE),-X $(BUILDINFO).date=$(GIT_DATE))'

ARTIFACTS :=
BENCHES :=
TEST_DEPS :=
LINT_DEPS :=

.DEFAULT_GOAL := all
include $(sort $(wildcard mk/*.mk))

.PHONY: all all-native all-linux-arm64 test test-short lint fmt vet bench clean
# Two chains at once: the artifacts for this machine's platform, and the
# linux/arm64 ones (hostbootstrap-linux-arm64, the Lambda zips). Within a
# chain the builds run one after the other, so the second reuses the standard
# library and SDK packages the first compiled; across chains nothing is shared,
# so the two keep both cores busy while one compiles a long package
# (service/ec2).
ARM64_ARTIFACTS := $(filter %-arm64 %.zip,$(ARTIFACTS))
all:
	@$(MAKE) --no-print-directory -j2 all-native all-linux-arm64
all-native:
	@$(MAKE) --no-print-directory $(filter-out $(ARM64_ARTIFACTS),$(ARTIFACTS))
all-linux-arm64:
	@$(MAKE) --no-print-directory $(ARM64_ARTIFACTS)

# The whole suite. Peers (moto_server, cfn-lint, amazon-ec2-metadata-mock)
# are skipped when missing unless TRUNKCTL_REQUIRE_PEERS=1. The output is go
# test's usual one (result lines, failures), then one line naming each
# skipped test and why (internal/buildtool/testsummary reads go test -json).
test: $(TEST_DEPS)
	$(GO) vet ./...
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/testsummary ./internal/buildtool/testsummary
	$(GO) test -json -count=1 -timeout 12m ./... | $(BIN)/testsummary

# Unit tests only: no peers, no CDK synth.
test-short:
	$(GO) test -short -count=1 ./...

# gofmt, go vet and golangci-lint (.golangci.yml), built into bin/ from tools/.
lint: vet $(LINT_DEPS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(BIN)/golangci-lint run ./...

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

bench: $(BENCHES)

clean:
	rm -rf $(DIST) $(BIN) cdk.out

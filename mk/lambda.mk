# The custom-resource Lambda: dist/lambda.zip holds "bootstrap" for the
# provided.al2023 runtime on arm64. The build is reproducible (trimmed paths,
# no build id, no VCS stamp, fixed zip times and modes), so its hash is stable.
LAMBDA_BOOTSTRAP := $(BIN)/lambda-linux-arm64/bootstrap
LAMBDA_ZIP := $(DIST)/lambda.zip
LAMBDA_SRCS := $(shell find lambda internal -name '*.go' -not -name '*_test.go' -not -path '*/testutil/*' -not -path 'lambda/benchclient/*' 2>/dev/null) go.mod go.sum

ARTIFACTS += $(LAMBDA_ZIP)
BENCHES += bench-lambda
# The emulator tests run the arm64 bootstrap from the zip under qemu.
TEST_DEPS += $(LAMBDA_ZIP)

.PHONY: lambda bench-lambda
lambda: $(LAMBDA_ZIP)

$(LAMBDA_BOOTSTRAP): $(LAMBDA_SRCS)
	@mkdir -p $(@D)
	GOOS=linux GOARCH=arm64 $(GOBUILD) -buildvcs=false -tags lambda.norpc -o $@ ./lambda

$(LAMBDA_ZIP): $(LAMBDA_BOOTSTRAP) internal/buildtool/detzip/main.go
	@mkdir -p $(@D)
	$(GO) run ./internal/buildtool/detzip -o $@ bootstrap=$(LAMBDA_BOOTSTRAP)
	@echo "$@: $$(wc -c < $@) bytes, sha256 $$(sha256sum $@ | cut -d' ' -f1)"

# Cold start over fresh processes (median time from process start to the
# response at the bucket, peak RSS) against a Go loopback STS/ECS and against
# moto_server; then, interleaved in the same run, the function under both
# principalArn rules against the no-SDK three-call client (lambda/benchclient);
# then the zip size. Figures go in docs/benchmarks.md.
bench-lambda: $(LAMBDA_ZIP)
	$(GO) test -run '^$$' -bench '^BenchmarkColdStart$$' -benchtime 1x -count 1 ./lambda
	@echo "lambda zip: $$(wc -c < $(LAMBDA_ZIP)) bytes ($(LAMBDA_ZIP), target <= 6 MB)"

# The Lambda functions: dist/<name>.zip holds "bootstrap" for the
# provided.al2023 runtime on arm64, built from the main package ./<name>.
# The build is reproducible (trimmed paths, no build id, no VCS stamp, fixed
# zip times and modes), so its hash is stable. dist/lambda.zip is the opt-in
# function (lambda/); any other function directory listed in LAMBDA_FUNCS
# that exists (guard/) gets its zip the same way.
LAMBDA_ZIP := $(DIST)/lambda.zip
LAMBDA_BOOTSTRAP := $(BIN)/lambda-linux-arm64/bootstrap
LAMBDA_FUNCS := lambda $(if $(wildcard guard/*.go),guard)
LAMBDA_ZIPS := $(foreach f,$(LAMBDA_FUNCS),$(DIST)/$(f).zip)

ARTIFACTS += $(LAMBDA_ZIPS)
BENCHES += bench-lambda
# The emulator tests run the arm64 bootstrap from the zip under qemu.
TEST_DEPS += $(LAMBDA_ZIPS)

.PHONY: lambda bench-lambda
lambda: $(LAMBDA_ZIP)

# lambda_function(name): the rules for $(BIN)/name-linux-arm64/bootstrap and
# $(DIST)/name.zip; the bootstrap is rebuilt when a Go source of ./name or
# internal/ changes.
define lambda_function
$(BIN)/$(1)-linux-arm64/bootstrap: $$(shell find $(1) internal -name '*.go' -not -name '*_test.go' -not -path '*/testutil/*' 2>/dev/null) go.mod go.sum
	@mkdir -p $$(@D)
	GOOS=linux GOARCH=arm64 $$(GOBUILD) -buildvcs=false -tags lambda.norpc -o $$@ ./$(1)

$(DIST)/$(1).zip: $(BIN)/$(1)-linux-arm64/bootstrap internal/buildtool/detzip/main.go
	@mkdir -p $$(@D)
	$$(GO) run ./internal/buildtool/detzip -o $$@ bootstrap=$$<
	@echo "$$@: $$$$(wc -c < $$@) bytes, sha256 $$$$(sha256sum $$@ | cut -d' ' -f1)"
endef
$(foreach f,$(LAMBDA_FUNCS),$(eval $(call lambda_function,$(f))))

# Cold start over fresh processes (median time from process start to the
# response at the bucket, peak RSS) against a Go loopback STS/ECS and against
# moto_server; then, interleaved in the same run, the function under both
# principalArn rules against the no-SDK three-call client (lambda/benchclient);
# then the zip size. Figures go in docs/benchmarks.md.
bench-lambda: $(LAMBDA_ZIP)
	$(GO) test -run '^$$' -bench '^BenchmarkColdStart$$' -benchtime 1x -count 1 ./lambda
	@echo "lambda zip: $$(wc -c < $(LAMBDA_ZIP)) bytes ($(LAMBDA_ZIP), target <= 6 MB)"

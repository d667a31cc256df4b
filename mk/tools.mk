# Test peers built from the Go module proxy by the separate module in tools/
# (`go install ...@version` is refused for some of them here). The tools
# module is nested, so `go test ./...` of the root module ignores it.
.PHONY: tools
TOOLS := $(BIN)/ec2-metadata-mock $(BIN)/aws-lambda-rie
TEST_DEPS += tools
LINT_DEPS += $(BIN)/golangci-lint

tools: $(TOOLS)

$(BIN)/ec2-metadata-mock: tools/go.mod tools/go.sum
	@mkdir -p $(BIN)
	cd tools && CGO_ENABLED=0 $(GO) build -trimpath -o ../$@ github.com/aws/amazon-ec2-metadata-mock/cmd

# AWS's Lambda Runtime Interface Emulator: the Lambda's end-to-end tests run
# the built function under it as well as under the home-made runtime.
$(BIN)/aws-lambda-rie: tools/go.mod tools/go.sum
	@mkdir -p $(BIN)
	cd tools && CGO_ENABLED=0 $(GO) build -trimpath -o ../$@ github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

# golangci-lint, pinned in tools/go.mod; `make lint` runs it with .golangci.yml.
$(BIN)/golangci-lint: tools/go.mod tools/go.sum
	@mkdir -p $(BIN)
	cd tools && CGO_ENABLED=0 $(GO) build -trimpath -o ../$@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

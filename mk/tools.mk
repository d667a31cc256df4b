# Test peers built from the Go module proxy by the separate module in tools/
# (`go install ...@version` is refused for some of them here). The tools
# module is nested, so `go test ./...` of the root module ignores it.
.PHONY: tools
TOOLS := $(BIN)/ec2-metadata-mock
TEST_DEPS += tools

tools: $(TOOLS)

$(BIN)/ec2-metadata-mock: tools/go.mod tools/go.sum
	@mkdir -p $(BIN)
	cd tools && CGO_ENABLED=0 $(GO) build -trimpath -o ../$@ github.com/aws/amazon-ec2-metadata-mock/cmd

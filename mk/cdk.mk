# CDK constructs and stacks (cdk/), generated CloudFormation (templates/).
# The Go jsii runtime needs only node; the CDK CLI (npx cdk, pinned in
# package.json) is installed by npm ci for the targets that run it.
.PHONY: templates cdk-synth cdk-deploy package
# `make` does not build templates/: that compiles the aws-cdk-go bindings
# (minutes the first time), which someone who wants the CLI should not wait
# for. `make templates` regenerates them; the drift test in `make test`
# (go test ./cdk/...) fails when the committed ones differ from the stacks.

# Node 20 makes every jsii process (synth, tests) print a deprecation or
# end-of-life banner; the runtime works, so silence it in make's recipes.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

CDK_CLI := node_modules/.bin/cdk
# STACKS: which stacks cdk-deploy deploys; CDK_FLAGS: e.g. -c vpcId=vpc-123.
STACKS ?= --all
CDK_FLAGS ?=

# Regenerate templates/ from the stacks; `go test ./cdk/...` fails until the
# result is committed.
templates:
	$(GO) run ./cdk/cmd/gentemplates -out templates

$(CDK_CLI): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Both build the Lambda and hostbootstrap assets with the local Go toolchain.
cdk-synth: $(CDK_CLI)
	$(CDK_CLI) synth --quiet $(CDK_FLAGS)

cdk-deploy: $(CDK_CLI)
	$(CDK_CLI) deploy $(STACKS) $(CDK_FLAGS)

# Upload dist/lambda.zip and dist/hostbootstrap-linux-amd64 (the cluster
# templates use c5.large, x86_64) under content-addressed keys (a new build is
# a new key, so CloudFormation updates what uses it) and print the deploy
# commands for templates/. BUCKET must be in the Region you deploy to.
# S3CP_FLAGS: extra `aws s3 cp` flags (e.g. --endpoint-url for a test server).
S3CP_FLAGS ?=
PREFIX ?= trunkctl/
package: $(DIST)/lambda.zip $(DIST)/hostbootstrap-linux-amd64
	@test -n "$(BUCKET)" || { echo "usage: make package BUCKET=<s3 bucket in the deploy Region> [PREFIX=trunkctl/]" >&2; exit 2; }
	@lambda="$(PREFIX)lambda-$$(sha256sum $(DIST)/lambda.zip | cut -c1-16).zip"; \
	  hb="$(PREFIX)hostbootstrap-linux-amd64-$$(sha256sum $(DIST)/hostbootstrap-linux-amd64 | cut -c1-16)"; \
	  aws s3 cp --only-show-errors $(S3CP_FLAGS) $(DIST)/lambda.zip "s3://$(BUCKET)/$$lambda" >&2; \
	  aws s3 cp --only-show-errors $(S3CP_FLAGS) $(DIST)/hostbootstrap-linux-amd64 "s3://$(BUCKET)/$$hb" >&2; \
	  hbsum=$$(sha256sum $(DIST)/hostbootstrap-linux-amd64 | cut -d' ' -f1); \
	  echo "hostbootstrap-linux-amd64 sha256 $$hbsum (HostBootstrapSha256: user data runs only a binary with this checksum)" >&2; \
	  code="LambdaCodeBucket=$(BUCKET) LambdaCodeKey=$$lambda"; \
	  echo "# Opt a new EC2 instance role into ENI trunking:"; \
	  echo "aws cloudformation deploy --stack-name eni-trunking --template-file templates/eni-trunking.yaml \\"; \
	  echo "  --capabilities CAPABILITY_IAM --parameter-overrides $$code"; \
	  echo "# Or a whole cluster (ECS-optimized AL2023) whose capacity waits for the opt-in:"; \
	  echo "aws cloudformation deploy --stack-name trunk-cluster --template-file templates/trunk-cluster.yaml \\"; \
	  echo "  --capabilities CAPABILITY_IAM --parameter-overrides $$code"; \
	  echo "# Or the same on plain AL2023, set up by hostbootstrap:"; \
	  echo "aws cloudformation deploy --stack-name trunk-cluster-al2023 --template-file templates/trunk-cluster-al2023.yaml \\"; \
	  echo "  --capabilities CAPABILITY_IAM --parameter-overrides $$code HostBootstrapBucket=$(BUCKET) HostBootstrapKey=$$hb HostBootstrapSha256=$$hbsum"

# The guard, the read-only watcher: dist/guard.zip holds "bootstrap" for the
# provided.al2023 runtime on arm64, built reproducibly like dist/lambda.zip by
# the rules of mk/lambda.mk (LAMBDA_FUNCS), which also add it to ARTIFACTS and
# TEST_DEPS. A separate binary and role from the opt-in function, so neither
# slows the other.
GUARD_ZIP := $(DIST)/guard.zip

BENCHES += bench-guard

.PHONY: guard bench-guard
guard: $(GUARD_ZIP)

# Cold start and peak RSS under the local Runtime API, calls per sweep of
# the 2,000-instance bench cluster beside doctor's, and calls per
# state-change event. Figures go in docs/benchmarks.md.
bench-guard: $(GUARD_ZIP)
	$(GO) test -run '^$$' -bench '^Benchmark(ColdStart|WarmStateChange)$$' -benchtime 1x -count 1 ./guard
	$(GO) run ./guard/bench
	@echo "guard zip: $$(wc -c < $(GUARD_ZIP)) bytes ($(GUARD_ZIP))"

# Upload dist/guard.zip under a content-addressed key and print the deploy
# command for templates/eni-trunking-guard.yaml (one account and Region).
# BUCKET must be in the Region you deploy to; S3CP_FLAGS and PREFIX as for
# `make package`.
.PHONY: package-guard package-guard-org
package-guard: $(GUARD_ZIP)
	@test -n "$(BUCKET)" || { echo "usage: make package-guard BUCKET=<s3 bucket in the deploy Region> [PREFIX=trunkctl/]" >&2; exit 2; }
	@key="$(PREFIX)guard-$$(sha256sum $(GUARD_ZIP) | cut -c1-16).zip"; \
	  aws s3 cp --only-show-errors $(S3CP_FLAGS) $(GUARD_ZIP) "s3://$(BUCKET)/$$key" >&2; \
	  echo "# Watch every ECS cluster of this account and Region (TopicArn=create makes a topic; or pass yours):"; \
	  echo "aws cloudformation deploy --stack-name trunkctl-guard --template-file templates/eni-trunking-guard.yaml \\"; \
	  echo "  --capabilities CAPABILITY_IAM --parameter-overrides LambdaCodeBucket=$(BUCKET) LambdaCodeKey=$$key \\"; \
	  echo "  TopicArn=create Clusters= 'Schedule=rate(15 minutes)'"

# The organization: upload dist/guard.zip to every Region's artifact bucket
# (BUCKET_PREFIX-REGION, as make package-org) and print the StackSet
# parameters that turn the guard on in the member template.
package-guard-org: $(GUARD_ZIP)
	@test -n "$(BUCKET_PREFIX)" -a -n "$(strip $(REGIONS))" || { echo 'usage: make package-guard-org BUCKET_PREFIX=<prefix> REGIONS="us-east-1 eu-west-1"' >&2; exit 2; }
	@key="$(PREFIX)guard-$$(sha256sum $(GUARD_ZIP) | cut -c1-16).zip"; \
	  for r in $(REGIONS); do \
	    aws s3 cp --only-show-errors --region "$$r" $(S3CP_FLAGS) $(GUARD_ZIP) "s3://$(BUCKET_PREFIX)-$$r/$$key" >&2; \
	    echo "uploaded s3://$(BUCKET_PREFIX)-$$r/$$key" >&2; \
	  done; \
	  echo "# Add to the StackSet's --parameters (create-stack-set or update-stack-set, see make package-org):"; \
	  echo "  ParameterKey=EnableGuard,ParameterValue=true ParameterKey=GuardCodeKey,ParameterValue=$$key"

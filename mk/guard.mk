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
# (BUCKET_PREFIX-REGION, as make package-org), refused unless BUCKET_OWNER
# (default: the caller's account) owns it, and print the StackSet parameters
# that turn the guard on in the member template, with each Region's object
# version to pin (GuardCodeVersion), as make package-org does for the
# opt-in function.
package-guard-org: $(GUARD_ZIP)
	@test -n "$(BUCKET_PREFIX)" -a -n "$(strip $(REGIONS))" || { echo 'usage: make package-guard-org BUCKET_PREFIX=<prefix> REGIONS="us-east-1 eu-west-1" [BUCKET_OWNER=<account id>]' >&2; exit 2; }
	@owner="$(BUCKET_OWNER)"; \
	  if [ -z "$$owner" ]; then owner=$$(aws sts get-caller-identity $(S3CP_FLAGS) --query Account --output text); fi; \
	  case "$$owner" in [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;; *) echo "package-guard-org: BUCKET_OWNER must be the 12-digit account that owns the buckets, got '$$owner'" >&2; exit 2;; esac; \
	  key="$(PREFIX)guard-$$(sha256sum $(GUARD_ZIP) | cut -c1-16).zip"; \
	  overrides=""; \
	  for r in $(REGIONS); do \
	    v=$$(aws s3api put-object --region "$$r" $(S3CP_FLAGS) --bucket "$(BUCKET_PREFIX)-$$r" --key "$$key" --body $(GUARD_ZIP) \
	      --expected-bucket-owner "$$owner" --query VersionId --output text); \
	    echo "uploaded s3://$(BUCKET_PREFIX)-$$r/$$key (bucket owner $$owner) version $$v" >&2; \
	    overrides="$$overrides$$r=$$v "; \
	  done; \
	  echo "# Add to the StackSet's --parameters (create-stack-set or update-stack-set, see make package-org):"; \
	  echo "  ParameterKey=EnableGuard,ParameterValue=true ParameterKey=GuardCodeKey,ParameterValue=$$key"; \
	  echo "# And pin each Region to the version uploaded there (update-stack-instances --regions R --parameter-overrides):"; \
	  for rv in $$overrides; do \
	    echo "  $${rv%%=*}: ParameterKey=GuardCodeVersion,ParameterValue=$${rv#*=}"; \
	  done

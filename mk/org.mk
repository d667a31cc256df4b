# The organization's StackSet (templates/org/, docs/cdk.md "StackSets").
# A Lambda's code must come from a bucket in its own Region, so the zip goes
# to one artifact bucket per Region, BUCKET_PREFIX-REGION (each created by
# templates/org/artifact-bucket.yaml), under the same content-addressed key.
.PHONY: package-org

# REGIONS: space-separated Regions the StackSet deploys to (one bucket each).
# ORG_UNITS: comma-separated OU ids (or the root r-...) for the printed
# commands; ROLE_NAMES: comma-separated existing instance roles to opt in;
# CREATE_TRUNK_READY_ROLE: true to add the trunk-ready role and profile.
# BUCKET_OWNER: the account that owns the artifact buckets (default: the
# caller's); every upload passes it as --expected-bucket-owner, so a bucket of
# the same name owned by anyone else is refused, and each upload's S3 object
# version is printed as the LambdaCodeVersion to pin per Region.
# S3CP_FLAGS and PREFIX as for `make package`.
BUCKET_PREFIX ?=
BUCKET_OWNER ?=
REGIONS ?=
ORG_UNITS ?= ou-EXAMPLE-11111111
ROLE_NAMES ?= ecsInstanceRole
CREATE_TRUNK_READY_ROLE ?= false
STACK_SET_NAME ?= trunkctl-eni-trunking
ORG_MEMBER_TEMPLATE := templates/org/eni-trunking-member.yaml

package-org: $(LAMBDA_ZIP)
	@test -n "$(BUCKET_PREFIX)" -a -n "$(strip $(REGIONS))" || { echo 'usage: make package-org BUCKET_PREFIX=<prefix> REGIONS="us-east-1 eu-west-1" [BUCKET_OWNER=<account id>] [ORG_UNITS=ou-...,ou-...] [ROLE_NAMES=ecsInstanceRole,...] [CREATE_TRUNK_READY_ROLE=true]' >&2; exit 2; }
	@owner="$(BUCKET_OWNER)"; \
	  if [ -z "$$owner" ]; then owner=$$(aws sts get-caller-identity $(S3CP_FLAGS) --query Account --output text); fi; \
	  case "$$owner" in [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;; *) echo "package-org: BUCKET_OWNER must be the 12-digit account that owns the buckets, got '$$owner'" >&2; exit 2;; esac; \
	  key="$(PREFIX)lambda-$$(sha256sum $(LAMBDA_ZIP) | cut -c1-16).zip"; \
	  overrides=""; \
	  for r in $(REGIONS); do \
	    v=$$(aws s3api put-object --region "$$r" $(S3CP_FLAGS) --bucket "$(BUCKET_PREFIX)-$$r" --key "$$key" --body $(LAMBDA_ZIP) \
	      --expected-bucket-owner "$$owner" --query VersionId --output text); \
	    echo "uploaded s3://$(BUCKET_PREFIX)-$$r/$$key (bucket owner $$owner) version $$v" >&2; \
	    overrides="$$overrides$$r=$$v "; \
	  done; \
	  roles=$$(printf '%s' "$(ROLE_NAMES)" | sed 's/,/\\,/g'); \
	  params="ParameterKey=BucketPrefix,ParameterValue=$(BUCKET_PREFIX) ParameterKey=LambdaCodeKey,ParameterValue=$$key \\"; \
	  params2="  'ParameterKey=InstanceRoleNames,ParameterValue=$$roles' ParameterKey=CreateTrunkReadyRole,ParameterValue=$(CREATE_TRUNK_READY_ROLE)"; \
	  echo "# Create the StackSet (management account; from a delegated administrator add --call-as DELEGATED_ADMIN):"; \
	  echo "aws cloudformation create-stack-set --stack-set-name $(STACK_SET_NAME) \\"; \
	  echo "  --template-body file://$(ORG_MEMBER_TEMPLATE) \\"; \
	  echo "  --permission-model SERVICE_MANAGED --auto-deployment Enabled=true,RetainStacksOnAccountRemoval=true \\"; \
	  echo "  --managed-execution Active=true --capabilities CAPABILITY_NAMED_IAM \\"; \
	  echo "  --parameters $$params"; echo "$$params2"; \
	  echo "# Deploy it to every account of the OUs, one Region at a time, each pinned to the object version uploaded there:"; \
	  for rv in $$overrides; do \
	    echo "aws cloudformation create-stack-instances --stack-set-name $(STACK_SET_NAME) \\"; \
	    echo "  --deployment-targets OrganizationalUnitIds=$(ORG_UNITS) --regions $${rv%%=*} \\"; \
	    echo "  --parameter-overrides ParameterKey=LambdaCodeVersion,ParameterValue=$${rv#*=} \\"; \
	    echo "  --operation-preferences RegionConcurrencyType=PARALLEL,ConcurrencyMode=SOFT_FAILURE_TOLERANCE,MaxConcurrentPercentage=25,FailureTolerancePercentage=10"; \
	  done; \
	  echo "# Or, once the StackSet exists, roll a new build out (then update-stack-instances per Region as above, with the new versions):"; \
	  echo "aws cloudformation update-stack-set --stack-set-name $(STACK_SET_NAME) \\"; \
	  echo "  --template-body file://$(ORG_MEMBER_TEMPLATE) --capabilities CAPABILITY_NAMED_IAM \\"; \
	  echo "  --parameters $$params"; echo "$$params2 ParameterKey=LambdaCodeVersion,UsePreviousValue=true \\"; \
	  echo "  --operation-preferences RegionConcurrencyType=PARALLEL,ConcurrencyMode=SOFT_FAILURE_TOLERANCE,MaxConcurrentPercentage=25,FailureTolerancePercentage=10"; \
	  for rv in $$overrides; do \
	    echo "aws cloudformation update-stack-instances --stack-set-name $(STACK_SET_NAME) \\"; \
	    echo "  --deployment-targets OrganizationalUnitIds=$(ORG_UNITS) --regions $${rv%%=*} \\"; \
	    echo "  --parameter-overrides ParameterKey=LambdaCodeVersion,ParameterValue=$${rv#*=}"; \
	  done

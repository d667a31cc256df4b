# The organization's StackSet (templates/org/, docs/cdk.md "StackSets").
# A Lambda's code must come from a bucket in its own Region, so the zip goes
# to one artifact bucket per Region, BUCKET_PREFIX-REGION (each created by
# templates/org/artifact-bucket.yaml), under the same content-addressed key.
.PHONY: package-org

# REGIONS: space-separated Regions the StackSet deploys to (one bucket each).
# ORG_UNITS: comma-separated OU ids (or the root r-...) for the printed
# commands; ROLE_NAMES: comma-separated existing instance roles to opt in;
# CREATE_TRUNK_READY_ROLE: true to add the trunk-ready role and profile.
# S3CP_FLAGS and PREFIX as for `make package`.
BUCKET_PREFIX ?=
REGIONS ?=
ORG_UNITS ?= ou-EXAMPLE-11111111
ROLE_NAMES ?= ecsInstanceRole
CREATE_TRUNK_READY_ROLE ?= false
STACK_SET_NAME ?= trunkctl-eni-trunking
ORG_MEMBER_TEMPLATE := templates/org/eni-trunking-member.yaml

package-org: $(LAMBDA_ZIP)
	@test -n "$(BUCKET_PREFIX)" -a -n "$(strip $(REGIONS))" || { echo 'usage: make package-org BUCKET_PREFIX=<prefix> REGIONS="us-east-1 eu-west-1" [ORG_UNITS=ou-...,ou-...] [ROLE_NAMES=ecsInstanceRole,...] [CREATE_TRUNK_READY_ROLE=true]' >&2; exit 2; }
	@key="$(PREFIX)lambda-$$(sha256sum $(LAMBDA_ZIP) | cut -c1-16).zip"; \
	  for r in $(REGIONS); do \
	    aws s3 cp --only-show-errors --region "$$r" $(S3CP_FLAGS) $(LAMBDA_ZIP) "s3://$(BUCKET_PREFIX)-$$r/$$key" >&2; \
	    echo "uploaded s3://$(BUCKET_PREFIX)-$$r/$$key" >&2; \
	  done; \
	  roles=$$(printf '%s' "$(ROLE_NAMES)" | sed 's/,/\\,/g'); \
	  params="ParameterKey=BucketPrefix,ParameterValue=$(BUCKET_PREFIX) ParameterKey=LambdaCodeKey,ParameterValue=$$key \\"; \
	  params2="  'ParameterKey=InstanceRoleNames,ParameterValue=$$roles' ParameterKey=CreateTrunkReadyRole,ParameterValue=$(CREATE_TRUNK_READY_ROLE)"; \
	  echo "# Create the StackSet (management account; from a delegated administrator add --call-as DELEGATED_ADMIN):"; \
	  echo "aws cloudformation create-stack-set --stack-set-name $(STACK_SET_NAME) \\"; \
	  echo "  --template-body file://$(ORG_MEMBER_TEMPLATE) \\"; \
	  echo "  --permission-model SERVICE_MANAGED --auto-deployment Enabled=true,RetainStacksOnAccountRemoval=true \\"; \
	  echo "  --managed-execution Active=true --capabilities CAPABILITY_IAM \\"; \
	  echo "  --parameters $$params"; echo "$$params2"; \
	  echo "# Deploy it to every account of the OUs, in every Region:"; \
	  echo "aws cloudformation create-stack-instances --stack-set-name $(STACK_SET_NAME) \\"; \
	  echo "  --deployment-targets OrganizationalUnitIds=$(ORG_UNITS) --regions $(strip $(REGIONS)) \\"; \
	  echo "  --operation-preferences RegionConcurrencyType=PARALLEL,ConcurrencyMode=SOFT_FAILURE_TOLERANCE,MaxConcurrentPercentage=25,FailureTolerancePercentage=10"; \
	  echo "# Or, once the StackSet exists, roll a new build out to every instance:"; \
	  echo "aws cloudformation update-stack-set --stack-set-name $(STACK_SET_NAME) \\"; \
	  echo "  --template-body file://$(ORG_MEMBER_TEMPLATE) --capabilities CAPABILITY_IAM \\"; \
	  echo "  --parameters $$params"; echo "$$params2 \\"; \
	  echo "  --operation-preferences RegionConcurrencyType=PARALLEL,ConcurrencyMode=SOFT_FAILURE_TOLERANCE,MaxConcurrentPercentage=25,FailureTolerancePercentage=10"

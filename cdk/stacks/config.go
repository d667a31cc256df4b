package stacks

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/trunking"
)

// Context keys the app reads (`cdk deploy -c key=value`).
const (
	CtxVpcID        = "vpcId"        // existing VPC for TrunkClusterStack
	CtxInstanceType = "instanceType" // default c5.large
	CtxImage        = "image"        // ecs-optimized-al2023 (default) or al2023-hostbootstrap
	CtxMaxCapacity  = "maxCapacity"  // default 2

	// OrgTrunkingStack is added only when orgUnitIds is set.
	CtxOrgUnitIDs              = "orgUnitIds"              // comma-separated ou-... (or r-...) ids
	CtxOrgRegions              = "orgRegions"              // comma-separated Regions
	CtxOrgBucketPrefix         = "orgBucketPrefix"         // make package-org BUCKET_PREFIX
	CtxOrgLambdaCodeKey        = "orgLambdaCodeKey"        // the key make package-org prints
	CtxOrgInstanceRoleNames    = "orgInstanceRoleNames"    // default ecsInstanceRole
	CtxOrgCreateTrunkReadyRole = "orgCreateTrunkReadyRole" // true or false (default)
	CtxOrgCallAs               = "orgCallAs"               // SELF (default) or DELEGATED_ADMIN
)

// Build adds the stacks to app, configured from its context.
func Build(app awscdk.App) error {
	str := func(key string) string {
		v := app.Node().TryGetContext(jsii.String(key))
		if v == nil {
			return ""
		}
		return fmt.Sprint(v)
	}
	cluster := &TrunkClusterStackProps{
		VpcID:        str(CtxVpcID),
		InstanceType: str(CtxInstanceType),
		Image:        trunking.Image(str(CtxImage)),
	}
	if s := str(CtxMaxCapacity); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("context %s=%q: want a positive integer", CtxMaxCapacity, s)
		}
		cluster.MaxCapacity = n
	}
	if cluster.VpcID != "" {
		// A lookup needs a concrete environment: the CLI's account and Region.
		cluster.Env = &awscdk.Environment{
			Account: jsii.String(os.Getenv("CDK_DEFAULT_ACCOUNT")),
			Region:  jsii.String(os.Getenv("CDK_DEFAULT_REGION")),
		}
	}
	NewEniTrunkingStack(app, EniTrunkingStackID, nil)
	NewTrunkClusterStack(app, TrunkClusterStackID, cluster)
	NewTrunkGuardStack(app, TrunkGuardStackID, nil)
	return buildOrg(app, str)
}

// buildOrg adds OrgTrunkingStack when the context names OUs.
func buildOrg(app awscdk.App, str func(string) string) error {
	list := func(key string) []string {
		var out []string
		for _, s := range strings.Split(str(key), ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	props := &OrgTrunkingStackProps{
		OrganizationalUnitIDs: list(CtxOrgUnitIDs),
		Regions:               list(CtxOrgRegions),
		BucketPrefix:          str(CtxOrgBucketPrefix),
		LambdaCodeKey:         str(CtxOrgLambdaCodeKey),
		InstanceRoleNames:     list(CtxOrgInstanceRoleNames),
		CallAs:                str(CtxOrgCallAs),
	}
	if len(props.OrganizationalUnitIDs) == 0 {
		for _, k := range []string{CtxOrgRegions, CtxOrgBucketPrefix, CtxOrgLambdaCodeKey} {
			if str(k) != "" {
				return fmt.Errorf("context %s is set but %s is not: OrgTrunkingStack needs the OUs to deploy to", k, CtxOrgUnitIDs)
			}
		}
		return nil
	}
	switch v := str(CtxOrgCreateTrunkReadyRole); v {
	case "", "false":
	case "true":
		props.CreateTrunkReadyRole = true
	default:
		return fmt.Errorf("context %s=%q: want true or false", CtxOrgCreateTrunkReadyRole, v)
	}
	for _, c := range []struct {
		key     string
		missing bool
	}{{CtxOrgRegions, len(props.Regions) == 0}, {CtxOrgBucketPrefix, props.BucketPrefix == ""}, {CtxOrgLambdaCodeKey, props.LambdaCodeKey == ""}} {
		if c.missing {
			return fmt.Errorf("context %s is required with %s (see docs/cdk.md, StackSets)", c.key, CtxOrgUnitIDs)
		}
	}
	body, err := OrgMemberTemplate()
	if err != nil {
		return err
	}
	props.TemplateBody = string(body)
	if err := props.validate(); err != nil {
		return fmt.Errorf("%s: %w", OrgTrunkingStackID, err)
	}
	NewOrgTrunkingStack(app, OrgTrunkingStackID, props)
	return nil
}

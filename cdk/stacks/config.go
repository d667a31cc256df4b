package stacks

import (
	"fmt"
	"os"
	"strconv"

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
)

// Build adds both stacks to app, configured from its context.
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
	return nil
}

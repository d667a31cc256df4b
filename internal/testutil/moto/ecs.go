package moto

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// RegisterInstances creates cluster (if needed) in cfg's account and Region,
// runs n EC2 instances of an Amazon Linux AMI there, and registers them as
// container instances with their instance identity document, as the ECS
// agent would (moto needs the EC2 instance in the same account and Region).
// It returns the container instance ARNs.
func RegisterInstances(tb testing.TB, cfg aws.Config, cluster string, n int) []string {
	tb.Helper()
	ctx := context.Background()
	ec2c, ecsc := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	if _, err := ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		tb.Fatal(err)
	}
	images, err := ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{})
	if err != nil {
		tb.Fatal(err)
	}
	ami := ""
	for _, im := range images.Images {
		if im.Platform != ec2types.PlatformValuesWindows && strings.Contains(aws.ToString(im.Name), "amzn") {
			ami = aws.ToString(im.ImageId)
			break
		}
	}
	if ami == "" {
		tb.Fatalf("moto offers no Amazon Linux AMI in %s", cfg.Region)
	}
	run, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: ec2types.InstanceTypeC5Large,
		MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n))})
	if err != nil {
		tb.Fatal(err)
	}
	var arns []string
	for _, in := range run.Instances {
		out, err := ecsc.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String(cluster),
			InstanceIdentityDocument: aws.String(fmt.Sprintf(`{"instanceId":%q}`, aws.ToString(in.InstanceId)))})
		if err != nil {
			tb.Fatal(err)
		}
		arns = append(arns, aws.ToString(out.ContainerInstance.ContainerInstanceArn))
	}
	return arns
}

package validate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/validate"
)

func TestValidators(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr string // "" means valid
	}{
		{"an empty value is an error, not a request for all", validate.NotEmpty("--instance", ""), "--instance is empty"},
		{"a blank value is empty too", validate.NotEmpty("--instance", "  "), "--instance is empty"},
		{"a Region name passes", validate.Region("--region", "us-gov-west-1"), ""},
		{"a made-up Region fails", validate.Region("--region", "us-east"), "is not a Region name"},
		{"a role ARN in aws-cn with us-east-1 is refused", validate.Role("--role", "arn:aws-cn:iam::123456789012:role/Ecs", "us-east-1"), "is in partition aws-cn, but Region us-east-1 is in partition aws"},
		{"a role ARN in aws-cn with cn-north-1 passes", validate.Role("--role", "arn:aws-cn:iam::123456789012:role/Ecs", "cn-north-1"), ""},
		{"a GovCloud role in a commercial Region is refused", validate.Role("--role", "arn:aws-us-gov:iam::123456789012:role/Ecs", "eu-west-1"), "partition aws-us-gov"},
		{"a role name passes", validate.Role("--role", "service-role/EcsInstance", "us-east-1"), ""},
		{"a role name with a space fails", validate.Role("--role", "Ecs Instance", "us-east-1"), "neither a role ARN nor a role name"},
		{"a malformed role ARN says what is wrong", validate.Role("--role", "arn:aws:iam::12345:role/Ecs", ""), "account \"12345\" is not 12 digits"},
		{"an empty role fails", validate.Role("--role", "", "us-east-1"), "--role is empty"},
		{"a cluster name passes", validate.Cluster("--cluster", "prod_web-1", "us-east-1"), ""},
		{"a cluster name with a dot fails", validate.Cluster("--cluster", "prod.web", "us-east-1"), "is not a cluster name"},
		{"a cluster name of 256 characters fails", validate.Cluster("--cluster", strings.Repeat("a", 256), ""), "is not a cluster name"},
		{"a cluster ARN of the Region passes", validate.Cluster("--cluster", "arn:aws:ecs:us-east-1:123456789012:cluster/prod", "us-east-1"), ""},
		{"a cluster ARN of another Region says which Region to pass", validate.Cluster("--cluster", "arn:aws:ecs:eu-west-1:123456789012:cluster/prod", "us-east-1"), "--region eu-west-1"},
		{"a service ARN is not a cluster ARN", validate.Cluster("--cluster", "arn:aws:ecs:us-east-1:123456789012:service/prod/web", ""), "is not an ECS cluster ARN"},
		{"a short instance id passes", validate.InstanceID("--instance", "i-0123abcd"), ""},
		{"a long instance id passes", validate.InstanceID("--instance", "i-0123456789abcdef0"), ""},
		{"an instance id with capitals fails", validate.InstanceID("--instance", "i-0123456789ABCDEF0"), "is not an EC2 instance id"},
		{"a container instance id passes", validate.ContainerInstanceID("--instance", "0123456789abcdef0123456789abcdef"), ""},
		{"an old UUID container instance id passes", validate.ContainerInstanceID("--instance", "f9cc75bb-0c94-46b9-bf6d-49d320bc1551"), ""},
		{"a container instance ARN passes", validate.ContainerInstanceID("--instance", "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef"), ""},
		{"--instance takes an EC2 id", validate.Instance("--instance", "i-0123456789abcdef0"), ""},
		{"--instance takes a container instance id", validate.Instance("--instance", "0123456789abcdef0123456789abcdef"), ""},
		{"--instance refuses anything else", validate.Instance("--instance", "web-1"), "neither an EC2 instance id nor a container instance id"},
		{"--instance refuses a truncated EC2 id", validate.Instance("--instance", "i-0123"), "is not an EC2 instance id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantErr == "" {
				if tt.err != nil {
					t.Fatalf("err = %v, want none", tt.err)
				}
				return
			}
			var ve *validate.Error
			if !errors.As(tt.err, &ve) || !strings.Contains(tt.err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want a *validate.Error containing %q", tt.err, tt.wantErr)
			}
		})
	}
}

package rollouttest

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// The ECS account settings calls go to the simulated account, as its root.

func (f *ECS) PutAccountSetting(ctx context.Context, in *ecs.PutAccountSettingInput, o ...func(*ecs.Options)) (*ecs.PutAccountSettingOutput, error) {
	if err := f.s.enter(ctx, "ecs:PutAccountSetting"); err != nil {
		return nil, err
	}
	f.s.leave()
	return f.s.acct.ECSAs(f.s.acct.RootARN()).PutAccountSetting(ctx, in, o...)
}

func (f *ECS) ListAccountSettings(ctx context.Context, in *ecs.ListAccountSettingsInput, o ...func(*ecs.Options)) (*ecs.ListAccountSettingsOutput, error) {
	if err := f.s.enter(ctx, "ecs:ListAccountSettings"); err != nil {
		return nil, err
	}
	f.s.leave()
	return f.s.acct.ECSAs(f.s.acct.RootARN()).ListAccountSettings(ctx, in, o...)
}

// profileArn is the instance profile of a role: one per role, named after it.
func (s *Sim) profileArn(role string) string {
	return fmt.Sprintf("arn:aws:iam::%s:instance-profile/%s", s.cfg.AccountID, role)
}

// EC2 is the simulated EC2 client: DescribeInstances, for instance profiles.
type EC2 struct {
	inventory.EC2API
	s *Sim
}

// EC2 returns the simulated EC2 client.
func (s *Sim) EC2() *EC2 { return &EC2{s: s} }

func (f *EC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	s := f.s
	if err := s.enter(ctx, "ec2:DescribeInstances"); err != nil {
		return nil, err
	}
	defer s.leave()
	if len(in.Filters) > 0 || in.NextToken != nil {
		panic("rollouttest: DescribeInstances simulates instance ids only")
	}
	var res ec2types.Reservation
	for _, id := range in.InstanceIds {
		inst := s.instances[id]
		if inst == nil {
			return nil, &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound", Message: fmt.Sprintf("The instance ID '%s' does not exist", id)}
		}
		i := ec2types.Instance{InstanceId: aws.String(id), InstanceType: ec2types.InstanceType(inst.Type)}
		if inst.Group != "" {
			i.Tags = []ec2types.Tag{{Key: aws.String(inventory.TagAutoScalingGroup), Value: aws.String(inst.Group)}}
		}
		if inst.Role != "" {
			i.IamInstanceProfile = &ec2types.IamInstanceProfile{Arn: aws.String(s.profileArn(inst.Role))}
		}
		res.Instances = append(res.Instances, i)
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{res}}, nil
}

// IAM is the simulated IAM client: an instance profile per role, named after it.
type IAM struct {
	inventory.IAMAPI
	s *Sim
}

// IAM returns the simulated IAM client.
func (s *Sim) IAM() *IAM { return &IAM{s: s} }

func (f *IAM) GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, _ ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error) {
	s := f.s
	if err := s.enter(ctx, "iam:GetInstanceProfile"); err != nil {
		return nil, err
	}
	defer s.leave()
	name := aws.ToString(in.InstanceProfileName)
	for _, inst := range s.instances {
		if inst.Role == name {
			return &iam.GetInstanceProfileOutput{InstanceProfile: &iamtypes.InstanceProfile{
				InstanceProfileName: aws.String(name), Arn: aws.String(s.profileArn(name)),
				Roles: []iamtypes.Role{{RoleName: aws.String(name), Arn: aws.String(s.acct.RoleARN(name))}},
			}}, nil
		}
	}
	return nil, &smithy.GenericAPIError{Code: "NoSuchEntity", Message: "Instance Profile " + name + " cannot be found."}
}

func (f *IAM) GetRole(ctx context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	s := f.s
	if err := s.enter(ctx, "iam:GetRole"); err != nil {
		return nil, err
	}
	defer s.leave()
	name := aws.ToString(in.RoleName)
	for _, inst := range s.instances {
		if inst.Role == name || strings.HasSuffix(name, "/"+inst.Role) {
			return &iam.GetRoleOutput{Role: &iamtypes.Role{RoleName: aws.String(inst.Role), Arn: aws.String(s.acct.RoleARN(inst.Role))}}, nil
		}
	}
	return nil, &smithy.GenericAPIError{Code: "NoSuchEntity", Message: "The role with name " + name + " cannot be found."}
}

// Judge reads the cluster (an inventory snapshot of its container
// instances and their roles) and returns the judge's input and its report
// on each instance: what a rollout plans from, and judges replacements with.
func (s *Sim) Judge(ctx context.Context) (doctor.Input, []doctor.InstanceReport, error) {
	snap, err := inventory.NewLoader(s.ECS(), s.EC2(), s.IAM(), 4).Snapshot(ctx, s.cfg.Cluster, inventory.SnapshotOptions{})
	if err != nil {
		return doctor.Input{}, nil, err
	}
	in := doctor.Input{Snapshot: *snap, Catalog: s.cat}
	return in, doctor.Judge(in).Instances, nil
}

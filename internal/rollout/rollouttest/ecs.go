package rollouttest

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/rollout"
)

// ECS is the simulated ECS client: every ECS call trunkctl makes.
type ECS struct {
	s *Sim
}

var _ interface {
	rollout.ECSAPI
	inventory.ECSAPI
	accountsetting.ECSAPI
} = (*ECS)(nil)

// ECS returns the simulated ECS client.
func (s *Sim) ECS() *ECS { return &ECS{s: s} }

func invalid(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "InvalidParameterException", Message: fmt.Sprintf(format, args...)}
}

func (s *Sim) clusterOK(name *string) error {
	if n := aws.ToString(name); n != s.cfg.Cluster && n != fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", s.cfg.Region, s.cfg.AccountID, s.cfg.Cluster) {
		return &smithy.GenericAPIError{Code: "ClusterNotFoundException", Message: "Cluster not found."}
	}
	return nil
}

// page cuts items by a numeric NextToken and MaxResults (at most 100).
func page(items []string, token *string, maxResults *int32) ([]string, *string, error) {
	start := 0
	if t := aws.ToString(token); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n > len(items) {
			return nil, nil, invalid("bad nextToken %q", t)
		}
		start = n
	}
	size := 100
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 100 {
			return nil, nil, invalid("maxResults %d out of 1-100", *maxResults)
		}
		size = int(*maxResults)
	}
	end := min(start+size, len(items))
	var next *string
	if end < len(items) {
		next = aws.String(strconv.Itoa(end))
	}
	return items[start:end], next, nil
}

func (f *ECS) ListContainerInstances(ctx context.Context, in *ecs.ListContainerInstancesInput, _ ...func(*ecs.Options)) (*ecs.ListContainerInstancesOutput, error) {
	s := f.s
	if err := s.enter(ctx, "ecs:ListContainerInstances"); err != nil {
		return nil, err
	}
	defer s.leave()
	if err := s.clusterOK(in.Cluster); err != nil {
		return nil, err
	}
	var arns []string
	for _, arn := range s.ciOrder {
		ci := s.cis[arn]
		if ci.Status == "INACTIVE" || (in.Status != "" && string(in.Status) != ci.Status) {
			continue
		}
		arns = append(arns, arn)
	}
	p, next, err := page(arns, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ecs.ListContainerInstancesOutput{ContainerInstanceArns: p, NextToken: next}, nil
}

func (f *ECS) DescribeContainerInstances(ctx context.Context, in *ecs.DescribeContainerInstancesInput, _ ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error) {
	s := f.s
	if err := s.enter(ctx, "ecs:DescribeContainerInstances"); err != nil {
		return nil, err
	}
	defer s.leave()
	if err := s.clusterOK(in.Cluster); err != nil {
		return nil, err
	}
	if len(in.ContainerInstances) > 100 {
		return nil, invalid("%d container instances, more than 100", len(in.ContainerInstances))
	}
	load := map[string][2]int{}
	for _, t := range s.tasks {
		if t.LastStatus == "STOPPED" {
			continue
		}
		c := load[t.CI]
		if t.LastStatus == "PENDING" {
			c[1]++
		}
		c[0]++ // runningTasksCount counts tasks whose desired status is RUNNING
		load[t.CI] = c
	}
	out := &ecs.DescribeContainerInstancesOutput{}
	for _, arn := range in.ContainerInstances {
		ci := s.cis[arn]
		if ci == nil {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
			continue
		}
		attrs := []ecstypes.Attribute{
			{Name: aws.String("ecs.instance-type"), Value: aws.String(ci.Type)},
			{Name: aws.String("ecs.os-type"), Value: aws.String("linux")},
			{Name: aws.String("ecs.capability.task-eni")},
			{Name: aws.String("ecs.capability.task-eni-trunking")},
			{Name: aws.String("ecs.capability.branch-cni-plugin-version"), Value: aws.String("a21d3a41-")},
		}
		if ci.Trunk != "" {
			attrs = append(attrs, ecstypes.Attribute{Name: aws.String("ecs.awsvpc-trunk-id"), Value: aws.String(ci.Trunk)})
		}
		c := load[arn]
		out.ContainerInstances = append(out.ContainerInstances, ecstypes.ContainerInstance{
			ContainerInstanceArn: aws.String(arn), Ec2InstanceId: aws.String(ci.EC2), Status: aws.String(ci.Status),
			AgentConnected: ci.Status != "INACTIVE", RegisteredAt: aws.Time(ci.RegisteredAt), Attributes: attrs,
			RunningTasksCount: count32(c[0]), PendingTasksCount: count32(c[1]),
			VersionInfo: &ecstypes.VersionInfo{AgentVersion: aws.String("1.89.0")},
		})
	}
	return out, nil
}

// DeregisterContainerInstance takes a container instance out of the
// cluster (INACTIVE) at once; without force, one that still runs tasks is
// refused.
func (f *ECS) DeregisterContainerInstance(ctx context.Context, in *ecs.DeregisterContainerInstanceInput, _ ...func(*ecs.Options)) (*ecs.DeregisterContainerInstanceOutput, error) {
	s := f.s
	if err := s.enter(ctx, "ecs:DeregisterContainerInstance"); err != nil {
		return nil, err
	}
	defer s.leave()
	if err := s.clusterOK(in.Cluster); err != nil {
		return nil, err
	}
	ci := s.cis[aws.ToString(in.ContainerInstance)]
	if ci == nil || ci.Status == "INACTIVE" {
		return nil, invalid("container instance %s not found", aws.ToString(in.ContainerInstance))
	}
	if n := s.load()[ci.Arn]; n > 0 && !aws.ToBool(in.Force) {
		return nil, &smithy.GenericAPIError{Code: "ClientException", Message: fmt.Sprintf("container instance %s has %d task(s) running", ci.Arn, n)}
	}
	s.acting("DeregisterContainerInstance", ci.EC2)
	ci.Status = "INACTIVE"
	return &ecs.DeregisterContainerInstanceOutput{ContainerInstance: &ecstypes.ContainerInstance{ContainerInstanceArn: aws.String(ci.Arn), Ec2InstanceId: aws.String(ci.EC2), Status: aws.String(ci.Status)}}, nil
}

func (f *ECS) UpdateContainerInstancesState(ctx context.Context, in *ecs.UpdateContainerInstancesStateInput, _ ...func(*ecs.Options)) (*ecs.UpdateContainerInstancesStateOutput, error) {
	s := f.s
	if err := s.enter(ctx, "ecs:UpdateContainerInstancesState"); err != nil {
		return nil, err
	}
	defer s.leave()
	if err := s.clusterOK(in.Cluster); err != nil {
		return nil, err
	}
	if len(in.ContainerInstances) > 10 {
		return nil, invalid("%d container instances, more than 10", len(in.ContainerInstances))
	}
	if in.Status != ecstypes.ContainerInstanceStatusDraining && in.Status != ecstypes.ContainerInstanceStatusActive {
		return nil, invalid("status %s", in.Status)
	}
	out := &ecs.UpdateContainerInstancesStateOutput{}
	for _, arn := range in.ContainerInstances {
		ci := s.cis[arn]
		if ci == nil || ci.Status == "INACTIVE" {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
			continue
		}
		s.acting("UpdateContainerInstancesState", ci.EC2)
		ci.Status = string(in.Status)
		out.ContainerInstances = append(out.ContainerInstances, ecstypes.ContainerInstance{ContainerInstanceArn: aws.String(arn), Ec2InstanceId: aws.String(ci.EC2), Status: aws.String(ci.Status)})
	}
	return out, nil
}

func (f *ECS) ListTasks(ctx context.Context, in *ecs.ListTasksInput, _ ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	s := f.s
	if err := s.enter(ctx, "ecs:ListTasks"); err != nil {
		return nil, err
	}
	defer s.leave()
	if err := s.clusterOK(in.Cluster); err != nil {
		return nil, err
	}
	want := string(in.DesiredStatus)
	if want == "" {
		want = "RUNNING"
	}
	var arns []string
	for _, arn := range s.taskOrder {
		t := s.tasks[arn]
		if t.Desired != want || (in.ContainerInstance != nil && aws.ToString(in.ContainerInstance) != t.CI) ||
			(in.ServiceName != nil && aws.ToString(in.ServiceName) != t.Service) {
			continue
		}
		arns = append(arns, arn)
	}
	p, next, err := page(arns, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ecs.ListTasksOutput{TaskArns: p, NextToken: next}, nil
}

func (f *ECS) DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	s := f.s
	if err := s.enter(ctx, "ecs:DescribeTasks"); err != nil {
		return nil, err
	}
	defer s.leave()
	if err := s.clusterOK(in.Cluster); err != nil {
		return nil, err
	}
	if len(in.Tasks) > 100 {
		return nil, invalid("%d tasks, more than 100", len(in.Tasks))
	}
	out := &ecs.DescribeTasksOutput{}
	for _, arn := range in.Tasks {
		t := s.tasks[arn]
		if t == nil {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
			continue
		}
		group := "family:batch"
		if t.Service != "" {
			group = "service:" + t.Service
		}
		out.Tasks = append(out.Tasks, ecstypes.Task{
			TaskArn: aws.String(arn), ContainerInstanceArn: aws.String(t.CI), Group: aws.String(group),
			LastStatus: aws.String(t.LastStatus), DesiredStatus: aws.String(t.Desired), LaunchType: ecstypes.LaunchTypeEc2,
			Attachments: []ecstypes.Attachment{{Type: aws.String("ElasticNetworkInterface"), Id: aws.String("att-" + lastSegment(arn)), Status: aws.String("ATTACHED"),
				Details: []ecstypes.KeyValuePair{{Name: aws.String("networkInterfaceId"), Value: aws.String("eni-" + lastSegment(arn))}}}},
		})
	}
	return out, nil
}

func (f *ECS) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	s := f.s
	if err := s.enter(ctx, "ecs:DescribeServices"); err != nil {
		return nil, err
	}
	defer s.leave()
	if err := s.clusterOK(in.Cluster); err != nil {
		return nil, err
	}
	if len(in.Services) > 10 {
		return nil, invalid("%d services, more than 10", len(in.Services))
	}
	out := &ecs.DescribeServicesOutput{}
	for _, name := range in.Services {
		svc := s.services[name]
		if svc == nil {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(name), Reason: aws.String("MISSING")})
			continue
		}
		var evs []ecstypes.ServiceEvent
		for i := len(svc.events) - 1; i >= 0; i-- { // newest first, as ECS answers
			e := svc.events[i]
			evs = append(evs, ecstypes.ServiceEvent{CreatedAt: aws.Time(e.at), Id: aws.String(e.id), Message: aws.String(e.msg)})
		}
		running := 0
		for _, t := range s.tasks {
			if t.Service == name && t.LastStatus == "RUNNING" {
				running++
			}
		}
		out.Services = append(out.Services, ecstypes.Service{
			ServiceName: aws.String(name), DesiredCount: count32(svc.Desired), RunningCount: count32(running), Events: evs,
			DeploymentConfiguration: &ecstypes.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(count32(svc.MinHealthy)), MaximumPercent: aws.Int32(count32(svc.MaxPct))},
		})
	}
	return out, nil
}

func (f *ECS) StopTask(ctx context.Context, in *ecs.StopTaskInput, _ ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	s := f.s
	if err := s.enter(ctx, "ecs:StopTask"); err != nil {
		return nil, err
	}
	defer s.leave()
	if err := s.clusterOK(in.Cluster); err != nil {
		return nil, err
	}
	t := s.tasks[aws.ToString(in.Task)]
	if t == nil {
		return nil, invalid("task %s not found", aws.ToString(in.Task))
	}
	s.acting("StopTask", s.cis[t.CI].EC2)
	t.LastStatus, t.Desired = "STOPPED", "STOPPED"
	return &ecs.StopTaskOutput{Task: &ecstypes.Task{TaskArn: in.Task, LastStatus: aws.String("STOPPED")}}, nil
}

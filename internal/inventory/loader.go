// Package inventory walks an ECS cluster the way trunking needs it seen:
// cluster -> container instances -> trunk ENI -> branch ENIs -> tasks. It
// batches every call to the API maximum, paginates everything, pipelines
// describes behind list pages, and bounds the calls in flight.
package inventory

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"

	"github.com/trunkctl/trunkctl/internal/awsarn"
	"github.com/trunkctl/trunkctl/internal/awserr"
)

// Loader reads a cluster's inventory. Build it with NewLoader.
type Loader struct {
	ECS ECSAPI
	EC2 EC2API
	IAM IAMAPI
	// Now is the local clock (time.Now unless a test sets it).
	Now func() time.Time
	sem chan struct{}
}

// NewLoader returns a loader that keeps at most concurrency calls in flight
// (DefaultConcurrency when <= 0).
func NewLoader(ecsc ECSAPI, ec2c EC2API, iamc IAMAPI, concurrency int) *Loader {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	return &Loader{ECS: ecsc, EC2: ec2c, IAM: iamc, Now: time.Now, sem: make(chan struct{}, concurrency)}
}

// call runs one API call inside the concurrency bound.
func (l *Loader) call(ctx context.Context, f func() error) error {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l.sem }()
	return f()
}

// ClusterNotFoundError says ECS does not know the cluster in this account and Region.
type ClusterNotFoundError struct {
	Cluster string
	// Reason is ECS's: a DescribeClusters failure reason (MISSING) or the
	// ClusterNotFoundException's message.
	Reason string
	// Err is the API error, when there was one.
	Err error
}

func (e *ClusterNotFoundError) Error() string {
	return fmt.Sprintf("cluster %q not found (%s)", e.Cluster, e.Reason)
}

func (e *ClusterNotFoundError) Unwrap() error { return e.Err }

// Cluster describes the cluster, failing with *ClusterNotFoundError when ECS does not know it.
func (l *Loader) Cluster(ctx context.Context, name string) (ecstypes.Cluster, error) {
	var out *ecs.DescribeClustersOutput
	err := l.call(ctx, func() (err error) {
		out, err = l.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{name}})
		return err
	})
	if err != nil {
		return ecstypes.Cluster{}, clusterError(name, fmt.Errorf("describe cluster %s: %w", name, err))
	}
	for _, c := range out.Clusters {
		if aws.ToString(c.Status) != "INACTIVE" {
			return c, nil
		}
	}
	reason := "MISSING"
	if len(out.Failures) > 0 {
		reason = aws.ToString(out.Failures[0].Reason)
	}
	return ecstypes.Cluster{}, &ClusterNotFoundError{Cluster: name, Reason: reason}
}

// pipeline runs list (which pages sequentially and hands each page to emit)
// while describing each page concurrently within the loader's bound.
func pipeline(ctx context.Context, list func(ctx context.Context, emit func([]string)) error, describe func(ctx context.Context, ids []string) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return list(gctx, func(ids []string) {
			if len(ids) == 0 {
				return
			}
			g.Go(func() error { return describe(gctx, ids) })
		})
	})
	return g.Wait()
}

// ContainerInstances lists and describes every container instance of the
// cluster that is not INACTIVE, sorted by EC2 instance id. Describe failures
// (an instance deregistered between list and describe) come back as warnings.
func (l *Loader) ContainerInstances(ctx context.Context, cluster string) ([]ContainerInstance, []string, error) {
	return l.containerInstances(ctx, cluster, nil)
}

// containerInstances is ContainerInstances that also hands each described
// batch to onBatch, when set, as it arrives (calls are serialized).
func (l *Loader) containerInstances(ctx context.Context, cluster string, onBatch func([]ContainerInstance)) ([]ContainerInstance, []string, error) {
	var (
		mu       sync.Mutex
		out      []ContainerInstance
		warnings []string
	)
	err := pipeline(ctx,
		func(ctx context.Context, emit func([]string)) error {
			return l.listContainerInstancePages(ctx, cluster, emit)
		},
		func(ctx context.Context, arns []string) error {
			return l.describeContainerInstances(ctx, cluster, arns, func(got []ContainerInstance, failed []string) {
				mu.Lock()
				defer mu.Unlock()
				out = append(out, got...)
				if onBatch != nil {
					onBatch(got)
				}
				warnings = append(warnings, failed...)
			})
		})
	if err != nil {
		return nil, nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].EC2InstanceID != out[j].EC2InstanceID {
			return out[i].EC2InstanceID < out[j].EC2InstanceID
		}
		return out[i].Arn < out[j].Arn
	})
	sort.Strings(warnings)
	return out, warnings, nil
}

// listContainerInstancePages lists the cluster's container instances that
// are not INACTIVE, handing each page to emit.
func (l *Loader) listContainerInstancePages(ctx context.Context, cluster string, emit func([]string)) error {
	in := &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster), MaxResults: aws.Int32(MaxECSListPage)}
	p := ecs.NewListContainerInstancesPaginator(l.ECS, in)
	for p.HasMorePages() {
		var page *ecs.ListContainerInstancesOutput
		if err := l.call(ctx, func() (err error) { page, err = p.NextPage(ctx); return err }); err != nil {
			return fmt.Errorf("list container instances in %s: %w", cluster, err)
		}
		emit(page.ContainerInstanceArns)
	}
	return nil
}

// describeContainerInstances describes arns in batches of MaxECSDescribe,
// handing each batch's container instances, and its failures as warnings,
// to got.
func (l *Loader) describeContainerInstances(ctx context.Context, cluster string, arns []string, got func([]ContainerInstance, []string)) error {
	for _, batch := range chunk(arns, MaxECSDescribe) {
		var (
			res  *ecs.DescribeContainerInstancesOutput
			sent time.Time
		)
		err := l.call(ctx, func() (err error) {
			sent = l.Now()
			res, err = l.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: batch})
			return err
		})
		if err != nil {
			return fmt.Errorf("describe container instances in %s: %w", cluster, err)
		}
		cis := make([]ContainerInstance, 0, len(res.ContainerInstances))
		for _, ci := range res.ContainerInstances {
			c := containerInstance(ci)
			c.CountsReadAt = sent
			cis = append(cis, c)
		}
		var failed []string
		for _, f := range res.Failures {
			failed = append(failed, fmt.Sprintf("container instance %s: %s", aws.ToString(f.Arn), aws.ToString(f.Reason)))
		}
		got(cis, failed)
	}
	return nil
}

// ContainerInstanceArns lists the ARNs of the cluster's container
// instances that are not INACTIVE.
func (l *Loader) ContainerInstanceArns(ctx context.Context, cluster string) ([]string, error) {
	var out []string
	err := l.listContainerInstancePages(ctx, cluster, func(arns []string) { out = append(out, arns...) })
	return out, err
}

// DescribeContainerInstances describes the named container instances;
// those that went away in between are left out.
func (l *Loader) DescribeContainerInstances(ctx context.Context, cluster string, arns []string) ([]ContainerInstance, error) {
	var out []ContainerInstance
	err := l.describeContainerInstances(ctx, cluster, arns, func(got []ContainerInstance, _ []string) { out = append(out, got...) })
	return out, err
}

func containerInstance(ci ecstypes.ContainerInstance) ContainerInstance {
	c := ContainerInstance{
		Arn:            aws.ToString(ci.ContainerInstanceArn),
		EC2InstanceID:  aws.ToString(ci.Ec2InstanceId),
		Status:         aws.ToString(ci.Status),
		StatusReason:   aws.ToString(ci.StatusReason),
		AgentConnected: ci.AgentConnected,
		RunningTasks:   int(ci.RunningTasksCount),
		PendingTasks:   int(ci.PendingTasksCount),
	}
	if ci.RegisteredAt != nil {
		c.RegisteredAt = ci.RegisteredAt.UTC()
	}
	if ci.VersionInfo != nil {
		c.AgentVersion = aws.ToString(ci.VersionInfo.AgentVersion)
	}
	c.Host = HostAttributesOf(ci.Attributes)
	c.TrunkCapable, c.OSType, c.AMI = c.Host.Trunking, c.Host.OSType, c.Host.AMI
	c.CapacityProvider = aws.ToString(ci.CapacityProviderName)
	for _, a := range ci.Attributes {
		v := aws.ToString(a.Value)
		switch aws.ToString(a.Name) {
		case AttrTrunkID:
			c.TrunkENI = v
		case AttrInstanceType:
			c.InstanceType = v
		case AttrOSFamily:
			c.OSFamily = v
		}
	}
	return c
}

func task(t ecstypes.Task) Task {
	out := Task{
		Arn:                  aws.ToString(t.TaskArn),
		ContainerInstanceArn: aws.ToString(t.ContainerInstanceArn),
		TaskDefinitionArn:    aws.ToString(t.TaskDefinitionArn),
		Group:                aws.ToString(t.Group),
		LastStatus:           aws.ToString(t.LastStatus),
		DesiredStatus:        aws.ToString(t.DesiredStatus),
		LaunchType:           string(t.LaunchType),
	}
	if t.CreatedAt != nil {
		out.CreatedAt = t.CreatedAt.UTC()
	}
	for _, c := range t.Containers {
		out.Containers = append(out.Containers, aws.ToString(c.Name))
	}
	for _, a := range t.Attachments {
		if aws.ToString(a.Type) != "ElasticNetworkInterface" {
			continue
		}
		e := TaskENI{AttachmentID: aws.ToString(a.Id), AttachmentStatus: aws.ToString(a.Status)}
		for _, d := range a.Details {
			v := aws.ToString(d.Value)
			switch aws.ToString(d.Name) {
			case "networkInterfaceId":
				e.NetworkInterfaceID = v
			case "macAddress":
				e.MACAddress = v
			case "privateIPv4Address":
				e.PrivateIPv4 = v
			case "ipv6Address":
				e.IPv6 = v
			case "subnetId":
				e.SubnetID = v
			}
		}
		out.ENIs = append(out.ENIs, e)
	}
	return out
}

// AWSVPC reports whether the task has an ENI of its own (awsvpc network mode).
func (t Task) AWSVPC() bool { return len(t.ENIs) > 0 }

// ENIBatcher collects network interface ids and describes them in batches
// of MaxEC2IDs as they fill, so branch ENIs are described while tasks are
// still being listed. Call Flush when no more ids come.
type ENIBatcher struct {
	l    *Loader
	g    *errgroup.Group
	ctx  context.Context
	mu   sync.Mutex
	ids  idBatch
	out  map[string]ENI
	miss []string
}

// NewENIBatcher starts a batcher; its calls stop when ctx ends.
func (l *Loader) NewENIBatcher(ctx context.Context) *ENIBatcher {
	g, gctx := errgroup.WithContext(ctx)
	return &ENIBatcher{l: l, g: g, ctx: gctx, ids: newIDBatch(MaxEC2IDs), out: map[string]ENI{}}
}

// Add queues ids, describing a batch as soon as MaxEC2IDs are waiting.
func (b *ENIBatcher) Add(ids ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, batch := range b.ids.add(ids) {
		b.start(batch)
	}
}

func (b *ENIBatcher) start(ids []string) {
	b.g.Go(func() error {
		got, missing, err := b.l.describeENIs(b.ctx, ids)
		if err != nil {
			return err
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		for id, e := range got {
			b.out[id] = e
		}
		b.miss = append(b.miss, missing...)
		return nil
	})
}

// Flush describes what is left and returns every ENI found, and the ids EC2
// no longer knows (deleted in the meantime).
func (b *ENIBatcher) Flush() (map[string]ENI, []string, error) {
	b.mu.Lock()
	if rest := b.ids.rest(); len(rest) > 0 {
		b.start(rest)
	}
	b.mu.Unlock()
	if err := b.g.Wait(); err != nil {
		return nil, nil, err
	}
	sort.Strings(b.miss)
	return b.out, b.miss, nil
}

// describeENIs describes one batch. EC2 fails the whole call when one id is
// unknown, so on InvalidNetworkInterfaceID.NotFound it retries with a filter
// on the same ids, which returns those that exist.
func (l *Loader) describeENIs(ctx context.Context, ids []string) (map[string]ENI, []string, error) {
	var res *ec2.DescribeNetworkInterfacesOutput
	err := l.call(ctx, func() (err error) {
		res, err = l.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ids})
		return err
	})
	if awserr.IsNotFound(err) {
		err = l.call(ctx, func() (err error) {
			res, err = l.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
				Filters: []ec2types.Filter{{Name: aws.String("network-interface-id"), Values: ids}},
			})
			return err
		})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("describe network interfaces: %w", err)
	}
	out := map[string]ENI{}
	for _, n := range res.NetworkInterfaces {
		e := ENI{
			ID:            aws.ToString(n.NetworkInterfaceId),
			InterfaceType: string(n.InterfaceType),
			Status:        string(n.Status),
			MACAddress:    aws.ToString(n.MacAddress),
			PrivateIPv4:   aws.ToString(n.PrivateIpAddress),
			SubnetID:      aws.ToString(n.SubnetId),
			VPCID:         aws.ToString(n.VpcId),
			OwnerID:       aws.ToString(n.OwnerId),
			Description:   aws.ToString(n.Description),
		}
		for _, g := range n.Groups {
			e.SecurityGroups = append(e.SecurityGroups, aws.ToString(g.GroupId))
		}
		for _, a := range n.Ipv6Addresses {
			e.IPv6 = append(e.IPv6, aws.ToString(a.Ipv6Address))
		}
		if n.Attachment != nil {
			e.InstanceID = aws.ToString(n.Attachment.InstanceId)
		}
		out[e.ID] = e
	}
	var missing []string
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			missing = append(missing, id)
		}
	}
	return out, missing, nil
}

// Instances describes EC2 instances by id, MaxEC2IDs per call, concurrently.
func (l *Loader) Instances(ctx context.Context, ids []string) (map[string]Instance, error) {
	var mu sync.Mutex
	out := map[string]Instance{}
	g, gctx := errgroup.WithContext(ctx)
	for _, batch := range chunk(uniq(ids), MaxEC2IDs) {
		g.Go(func() error {
			in := &ec2.DescribeInstancesInput{InstanceIds: batch}
			p := ec2.NewDescribeInstancesPaginator(l.EC2, in)
			for p.HasMorePages() {
				var page *ec2.DescribeInstancesOutput
				err := l.call(gctx, func() (err error) { page, err = p.NextPage(gctx); return err })
				if awserr.IsNotFound(err) && in.InstanceIds != nil {
					// One instance is gone for good; a filter on the same ids returns the others.
					in = &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: batch}}}
					p = ec2.NewDescribeInstancesPaginator(l.EC2, in)
					continue
				}
				if err != nil {
					return fmt.Errorf("describe instances: %w", err)
				}
				mu.Lock()
				for _, r := range page.Reservations {
					for _, i := range r.Instances {
						out[aws.ToString(i.InstanceId)] = instance(i)
					}
				}
				mu.Unlock()
			}
			return nil
		})
	}
	return out, g.Wait()
}

func instance(i ec2types.Instance) Instance {
	out := Instance{
		ID:           aws.ToString(i.InstanceId),
		InstanceType: string(i.InstanceType),
		ImageID:      aws.ToString(i.ImageId),
		SubnetID:     aws.ToString(i.SubnetId),
		VPCID:        aws.ToString(i.VpcId),
		Platform:     string(i.Platform),
	}
	if i.IamInstanceProfile != nil {
		out.InstanceProfileArn = aws.ToString(i.IamInstanceProfile.Arn)
	}
	out.Operator = OperatorOf(i)
	for _, t := range i.Tags {
		if aws.ToString(t.Key) == TagAutoScalingGroup {
			out.AutoScalingGroup = aws.ToString(t.Value)
		}
	}
	if o := i.PrivateDnsNameOptions; o != nil && o.EnableResourceNameDnsARecord != nil {
		v := *o.EnableResourceNameDnsARecord
		out.ResourceNameDNSARecord = &v
	}
	return out
}

// Subnets describes subnets by id.
func (l *Loader) Subnets(ctx context.Context, ids []string) (map[string]Subnet, error) {
	var mu sync.Mutex
	out := map[string]Subnet{}
	g, gctx := errgroup.WithContext(ctx)
	for _, batch := range chunk(uniq(ids), MaxEC2IDs) {
		g.Go(func() error {
			var res *ec2.DescribeSubnetsOutput
			if err := l.call(gctx, func() (err error) {
				res, err = l.EC2.DescribeSubnets(gctx, &ec2.DescribeSubnetsInput{SubnetIds: batch})
				return err
			}); err != nil {
				return fmt.Errorf("describe subnets: %w", err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, s := range res.Subnets {
				out[aws.ToString(s.SubnetId)] = Subnet{ID: aws.ToString(s.SubnetId), OwnerID: aws.ToString(s.OwnerId), VPCID: aws.ToString(s.VpcId), AZ: aws.ToString(s.AvailabilityZone)}
			}
			return nil
		})
	}
	return out, g.Wait()
}

// Images describes AMIs by id. AMIs that are gone (deregistered) are simply absent.
func (l *Loader) Images(ctx context.Context, ids []string) (map[string]Image, error) {
	var mu sync.Mutex
	out := map[string]Image{}
	g, gctx := errgroup.WithContext(ctx)
	for _, batch := range chunk(uniq(ids), MaxEC2IDs) {
		g.Go(func() error {
			var res *ec2.DescribeImagesOutput
			err := l.call(gctx, func() (err error) {
				res, err = l.EC2.DescribeImages(gctx, &ec2.DescribeImagesInput{ImageIds: batch})
				return err
			})
			if awserr.IsNotFound(err) {
				// A deregistered AMI fails the call; a filter returns the ones that exist.
				err = l.call(gctx, func() (err error) {
					res, err = l.EC2.DescribeImages(gctx, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("image-id"), Values: batch}}})
					return err
				})
			}
			if err != nil {
				return fmt.Errorf("describe images: %w", err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, im := range res.Images {
				out[aws.ToString(im.ImageId)] = Image{ID: aws.ToString(im.ImageId), Name: aws.ToString(im.Name), Description: aws.ToString(im.Description), Platform: aws.ToString(im.PlatformDetails)}
			}
			return nil
		})
	}
	return out, g.Wait()
}

// InstanceProfileRoles returns the role ARNs of each instance profile ARN.
func (l *Loader) InstanceProfileRoles(ctx context.Context, profileArns []string) (map[string][]string, error) {
	var mu sync.Mutex
	out := map[string][]string{}
	g, gctx := errgroup.WithContext(ctx)
	for _, arn := range uniq(profileArns) {
		p, err := awsarn.ParseInstanceProfile(arn)
		if err != nil {
			return nil, err
		}
		g.Go(func() error {
			var res *iam.GetInstanceProfileOutput
			if err := l.call(gctx, func() (err error) {
				res, err = l.IAM.GetInstanceProfile(gctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(p.Name)})
				return err
			}); err != nil {
				return fmt.Errorf("get instance profile %s: %w", p.Name, err)
			}
			var roles []string
			if res.InstanceProfile != nil {
				for _, r := range res.InstanceProfile.Roles {
					roles = append(roles, aws.ToString(r.Arn))
				}
			}
			mu.Lock()
			out[arn] = roles
			mu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}

// RoleExists reports whether an IAM role exists (GetRole).
func (l *Loader) RoleExists(ctx context.Context, name string) (bool, error) {
	err := l.call(ctx, func() error {
		_, err := l.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		return err
	})
	switch {
	case err == nil:
		return true, nil
	case awserr.IsNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("get role %s: %w", name, err)
	}
}

func chunk(s []string, n int) [][]string {
	var out [][]string
	for len(s) > n {
		out = append(out, s[:n:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

func uniq(s []string) []string {
	out := make([]string, 0, len(s))
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// RolesByInstance maps each described EC2 instance to the role ARNs of its
// instance profile (an instance profile holds at most one role). Instances
// without a profile are absent.
func (l *Loader) RolesByInstance(ctx context.Context, insts map[string]Instance) (map[string][]string, error) {
	var profiles []string
	for _, i := range insts {
		profiles = append(profiles, i.InstanceProfileArn)
	}
	byProfile, err := l.InstanceProfileRoles(ctx, profiles)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for id, i := range insts {
		if rs := byProfile[i.InstanceProfileArn]; i.InstanceProfileArn != "" && len(rs) > 0 {
			out[id] = rs
		}
	}
	return out, nil
}

// IsAmazonLinux guesses from an AMI's name and description whether it is
// Amazon Linux (the ECS-optimized AMIs are named amzn-ami-*, amzn2-ami-* and al2023-ami-*).
func (im Image) IsAmazonLinux() bool {
	s := strings.ToLower(im.Name + " " + im.Description)
	return strings.Contains(s, "amzn") || strings.Contains(s, "al2023") || strings.Contains(s, "amazon linux")
}

package doctor

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Checks on what ECS says and on the capacity behind the cluster.
const (
	CheckNextInstance     = "next-instance"
	CheckServiceEvents    = "service-eni-placement"
	CheckStoppedTasks     = "stopped-task-eni"
	CheckOptInRecord      = "opt-in-record"
	CheckTrunkENIFixed    = "trunk-eni-security-group-and-tags"
	CheckManagedInstances = "managed-instances"
)

// Roadmap items for what trunkctl cannot fix.
const (
	RoadmapTrunkSecurityGroup = "https://github.com/aws/containers-roadmap/issues/2235"
	RoadmapTrunkTags          = "https://github.com/aws/containers-roadmap/issues/2787"
)

// Signals is what the doctor read besides the cluster walk (see
// inventory.ReadSignals). A part that could not be read skips its check
// with a warning.
type Signals = inventory.SignalSet

// checkNextInstance judges what the capacity providers' groups will launch:
// their launch templates' DNS A record setting, instance types (with mixed
// instances overrides) and subnets.
func checkNextInstance(in Input, add func(Finding)) {
	s := in.Signals
	if s.ProvidersErr != nil {
		add(Finding{Check: CheckNextInstance, Severity: Warning, Subject: in.Snapshot.Cluster, Message: "could not describe the cluster's capacity providers, so what new instances get was not checked: " + s.ProvidersErr.Error(), Fix: "allow ecs:DescribeCapacityProviders"})
		return
	}
	names := make([]string, 0, len(s.Providers))
	for n := range s.Providers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		cp := s.Providers[n]
		if cp.Managed() {
			add(Finding{Check: CheckManagedInstances, Severity: Info, Subject: n, Message: "capacity provider " + n + " is ECS Managed Instances: ECS attaches their trunk itself (as the primary ENI when the type supports it), without the account setting; nothing to opt in or replace", Fix: ""})
			continue
		}
		asg := cp.AutoScalingGroupName()
		if asg == "" {
			continue
		}
		if s.GroupsErr != nil {
			add(Finding{Check: CheckNextInstance, Severity: Warning, Subject: asg, Message: "could not describe Auto Scaling group " + asg + ": " + s.GroupsErr.Error(), Fix: "allow autoscaling:DescribeAutoScalingGroups"})
			continue
		}
		g, ok := s.Groups[asg]
		if !ok {
			add(Finding{Check: CheckNextInstance, Severity: Warning, Subject: asg, Message: fmt.Sprintf("capacity provider %s names Auto Scaling group %s, which does not exist", n, asg), Fix: fmt.Sprintf("aws ecs describe-capacity-providers --capacity-providers %s", n)})
			continue
		}
		checkGroup(in, n, g, add)
	}
}

func checkGroup(in Input, provider string, g inventory.AutoScalingGroup, add func(Finding)) {
	s := in.Signals
	if g.LaunchTemplate == nil {
		if g.LaunchConfigurationName != "" {
			add(Finding{Check: CheckNextInstance, Severity: Info, Subject: g.Name, Message: "group uses launch configuration " + g.LaunchConfigurationName + " (not read): check it does not turn resource-name DNS A records on", Fix: ""})
		}
		return
	}
	ref := *g.LaunchTemplate
	lt, ok := s.Templates[ref.Key()]
	if !ok {
		why := "not found"
		if s.TemplatesErr != nil {
			why = s.TemplatesErr.Error()
		}
		add(Finding{Check: CheckNextInstance, Severity: Warning, Subject: g.Name, Message: fmt.Sprintf("could not read launch template %s: %s", ref.Key(), why), Fix: "allow ec2:DescribeLaunchTemplateVersions"})
		return
	}
	ltName := fmt.Sprintf("%s version %d", lt.ID, lt.Version)
	if lt.ResourceNameDNSARecord != nil && *lt.ResourceNameDNSARecord {
		add(Finding{Check: CheckNextInstance, Severity: Error, Subject: g.Name, Message: fmt.Sprintf("launch template %s (of group %s, capacity provider %s) turns resource-name DNS A records on: every instance it launches gets no trunk", ltName, g.Name, provider), Fix: fmt.Sprintf(`aws ec2 create-launch-template-version --launch-template-id %s --source-version %d --launch-template-data '{"PrivateDnsNameOptions":{"EnableResourceNameDnsARecord":false}}', then use that version in group %s (aws autoscaling update-auto-scaling-group --auto-scaling-group-name %s --launch-template LaunchTemplateId=%s,Version='$Latest')`,
			lt.ID, lt.Version, g.Name, g.Name, lt.ID)})
	}
	types := append([]string(nil), g.OverrideTypes...)
	if len(types) == 0 && lt.InstanceType != "" {
		types = []string{lt.InstanceType}
	}
	var bad, unpublished []string
	for _, t := range types {
		switch in.Catalog.Lookup(t).Support {
		case catalog.Unsupported:
			bad = append(bad, t)
		case catalog.LimitUnpublished:
			unpublished = append(unpublished, t)
		}
	}
	if len(bad) > 0 {
		sev, what := Error, "every instance it launches"
		if len(bad) < len(types) {
			sev, what = Warning, "the instances of those types it launches"
		}
		fix := overridesFix(g, ref, bad)
		if len(g.OverrideTypes) == 0 {
			alt := trunkingAlternative(in.Catalog, lt.InstanceType)
			fix = fmt.Sprintf("set a type that trunks (%s is a similar size) in launch template %s: aws ec2 create-launch-template-version --launch-template-id %s --source-version %d --launch-template-data '{\"InstanceType\":\"%s\"}', then use that version in group %s (aws autoscaling update-auto-scaling-group --auto-scaling-group-name %s --launch-template LaunchTemplateId=%s,Version='$Latest')",
				alt, lt.ID, lt.ID, lt.Version, alt, g.Name, g.Name, lt.ID)
		}
		add(Finding{Check: CheckNextInstance, Severity: sev, Subject: g.Name, Message: fmt.Sprintf("group %s launches %s, which ENI trunking does not support: %s get no trunk", g.Name, strings.Join(bad, ", "), what), Fix: fix})
	}
	if len(unpublished) > 0 {
		add(Finding{Check: CheckNextInstance, Severity: Info, Subject: g.Name, Message: fmt.Sprintf("group %s launches %s: trunk-capable per EC2, but ECS publishes no task limit for them; trunkctl instances shows the tasks seen", g.Name, strings.Join(unpublished, ", ")), Fix: ""})
	}
	for _, id := range g.Subnets {
		if sn, ok := s.GroupSubnets[id]; ok && in.AccountID != "" && sn.OwnerID != "" && sn.OwnerID != in.AccountID {
			add(Finding{Check: CheckNextInstance, Severity: Error, Subject: g.Name, Message: fmt.Sprintf("group %s launches into subnet %s, shared from account %s: registration fails there (REGISTRATION_FAILED) or gets no trunk", g.Name, id, sn.OwnerID), Fix: fmt.Sprintf("use subnets account %s owns: aws autoscaling update-auto-scaling-group --auto-scaling-group-name %s --vpc-zone-identifier SUBNET_IDS (without %s)", in.AccountID, g.Name, id)})
		}
	}
}

// checkServiceEvents reports placement failures for lack of ENIs
// (RESOURCE:ENI), once per service, naming the instances ECS named.
func checkServiceEvents(in Input, add func(Finding)) {
	s := in.Signals
	if s.ServiceEventErr != nil {
		add(Finding{Check: CheckServiceEvents, Severity: Warning, Subject: in.Snapshot.Cluster, Message: "could not read the services' events: " + s.ServiceEventErr.Error(), Fix: "allow ecs:DescribeServices"})
		return
	}
	byID := map[string]inventory.ContainerInstance{}
	for _, ci := range in.Snapshot.ContainerInstances {
		byID[ci.ID()] = ci
	}
	seen := map[string]bool{}
	for _, e := range s.ServiceEvents { // newest first
		if !e.ENIPlacementFailure() || seen[e.Service] {
			continue
		}
		seen[e.Service] = true
		var named, untrunked []string
		for _, id := range e.ContainerInstanceIDs() {
			ci, ok := byID[id]
			if !ok {
				named = append(named, id)
				continue
			}
			named = append(named, ci.EC2InstanceID)
			if ci.TrunkENI == "" {
				untrunked = append(untrunked, ci.EC2InstanceID)
			}
		}
		msg := fmt.Sprintf("service %s could not place tasks for lack of ENIs (RESOURCE:ENI) at %s", e.Service, e.CreatedAt.UTC().Format(time.RFC3339))
		if len(named) > 0 {
			msg += "; closest instance: " + strings.Join(named, ", ")
		}
		fix := fmt.Sprintf("add trunked capacity to cluster %s, or use types with more tasks (trunkctl capacity --family FAMILY)", in.Snapshot.Cluster)
		if len(untrunked) > 0 {
			msg += " (no trunk)"
			fix = fmt.Sprintf("%s has no trunk: see its verdict (trunkctl instances --cluster %s) and apply its fix; then the service's tasks fit", strings.Join(untrunked, ", "), in.Snapshot.Cluster)
		}
		add(Finding{Check: CheckServiceEvents, Severity: Warning, Subject: e.Service, Message: msg, Fix: fix})
	}
}

// eniStopReasons are substrings of stoppedReason that mean the task's ENI
// could not be set up.
var eniStopReasons = []string{"AssociationLimitExceeded", "branch interface", "trunk interface", "ENI", "network interface"}

// checkStoppedTasks reports tasks ECS stopped because their ENI could not
// be attached, grouped by instance.
func checkStoppedTasks(in Input, add func(Finding)) {
	s := in.Signals
	if s.StoppedErr != nil {
		add(Finding{Check: CheckStoppedTasks, Severity: Warning, Subject: in.Snapshot.Cluster, Message: "could not read stopped tasks: " + s.StoppedErr.Error(), Fix: "allow ecs:ListTasks and ecs:DescribeTasks"})
		return
	}
	ec2Of := map[string]inventory.ContainerInstance{}
	for _, ci := range in.Snapshot.ContainerInstances {
		ec2Of[ci.Arn] = ci
	}
	type group struct {
		tasks  []string
		reason string
	}
	by := map[string]*group{}
	for _, t := range s.StoppedTasks {
		hit := false
		for _, r := range eniStopReasons {
			hit = hit || strings.Contains(t.StoppedReason, r)
		}
		if !hit {
			continue
		}
		subject := t.ContainerInstanceArn
		if ci, ok := ec2Of[t.ContainerInstanceArn]; ok {
			subject = ci.EC2InstanceID
		}
		g := by[subject]
		if g == nil {
			g = &group{reason: t.StoppedReason}
			by[subject] = g
		}
		g.tasks = append(g.tasks, t.ID())
	}
	subjects := make([]string, 0, len(by))
	for s := range by {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	for _, subj := range subjects {
		g := by[subj]
		fix := fmt.Sprintf("the instance's branch ENIs are used up: add trunked capacity or spread the service's tasks (trunkctl instances --cluster %s shows use against the limit)", in.Snapshot.Cluster)
		if !strings.Contains(g.reason, "AssociationLimitExceeded") {
			fix = fmt.Sprintf("check the instance's trunk and its subnet's free addresses: trunkctl enis --cluster %s", in.Snapshot.Cluster)
		}
		add(Finding{Check: CheckStoppedTasks, Severity: Warning, Subject: subj, Message: fmt.Sprintf("%d task(s) stopped because their ENI could not be attached (e.g. task %s: %q)", len(g.tasks), g.tasks[0], g.reason), Fix: fix})
	}
}

// checkProvisioning reports tasks PROVISIONING for longer than StuckAfter,
// with their ENI attachment status and the instance's trunk and free slots.
func checkProvisioning(in Input, add func(Finding)) {
	if in.StuckAfter <= 0 {
		return
	}
	byArn := map[string]inventory.ContainerInstance{}
	for _, ci := range in.Snapshot.ContainerInstances {
		byArn[ci.Arn] = ci
	}
	awsvpc := map[string]int{}
	for _, t := range in.Snapshot.Tasks {
		if t.AWSVPC() {
			awsvpc[t.ContainerInstanceArn]++
		}
	}
	for _, t := range in.Snapshot.Tasks {
		if t.LastStatus != "PROVISIONING" || t.CreatedAt.IsZero() {
			continue
		}
		age := in.Now.Sub(t.CreatedAt)
		if age < in.StuckAfter {
			continue
		}
		var att []string
		for _, e := range t.ENIs {
			att = append(att, fmt.Sprintf("attachment %s %s", e.AttachmentID, e.AttachmentStatus))
		}
		msg := fmt.Sprintf("task has been PROVISIONING for %s", age.Round(time.Second))
		if len(att) > 0 {
			msg += " (" + strings.Join(att, ", ") + ")"
		}
		fix := fmt.Sprintf("add trunked capacity or stop the task: aws ecs stop-task --cluster %s --task %s", in.Snapshot.Cluster, t.ID())
		if ci, ok := byArn[t.ContainerInstanceArn]; ok {
			it := in.Catalog.Lookup(ci.InstanceType)
			u := UsageOf(ci, it, awsvpc[ci.Arn])
			switch {
			case ci.TrunkENI == "":
				msg += fmt.Sprintf("; on %s, which has no trunk (%d of %d ENIs in use)", ci.EC2InstanceID, u.AWSVPCTasks, u.Limit)
				fix = fmt.Sprintf("%s has no trunk: apply its verdict's fix (trunkctl instances --cluster %s); or stop the task: aws ecs stop-task --cluster %s --task %s", ci.EC2InstanceID, in.Snapshot.Cluster, in.Snapshot.Cluster, t.ID())
			case u.Limit > 0:
				msg += fmt.Sprintf("; on %s, trunk %s, %d of %d branch ENIs in use", ci.EC2InstanceID, ci.TrunkENI, u.AWSVPCTasks, u.Limit)
			default:
				msg += fmt.Sprintf("; on %s, trunk %s, %d branch ENIs in use (limit not published)", ci.EC2InstanceID, ci.TrunkENI, u.AWSVPCTasks)
			}
		}
		add(Finding{Check: CheckStuckProvisioning, Severity: Error, Subject: t.Arn, Message: msg, Fix: fix})
	}
}

// checkTrunkENILimits says once what cannot be fixed about trunk ENIs.
func checkTrunkENILimits(in Input, add func(Finding)) {
	var trunks []string
	for _, ci := range in.Snapshot.ContainerInstances {
		if ci.TrunkENI != "" {
			trunks = append(trunks, ci.TrunkENI)
		}
	}
	if len(trunks) == 0 {
		return
	}
	example := trunks[0]
	add(Finding{Check: CheckTrunkENIFixed, Severity: Info, Subject: in.Snapshot.Cluster, Message: fmt.Sprintf("the %d trunk ENI(s) (e.g. %s) carry the VPC's default security group and none of the launch template's tags; task traffic uses the branch ENIs' security groups. Neither can be changed today (%s, %s)", len(trunks), example, RoadmapTrunkSecurityGroup, RoadmapTrunkTags), Fix: ""})
}

// checkOptInRecord says when CloudTrail could not be read, since "registered
// before the opt-in" then rests on weaker evidence.
func checkOptInRecord(in Input, add func(Finding)) {
	s := in.Signals
	if s.OptInRead && s.OptInErr != nil {
		add(Finding{Check: CheckOptInRecord, Severity: Warning, Subject: in.Snapshot.Cluster, Message: "could not read CloudTrail for when the roles were opted in: " + s.OptInErr.Error() + "; verdicts say only what else is known", Fix: "allow cloudtrail:LookupEvents"})
	}
}

// overridesFix is the update that keeps only the overrides that trunk.
func overridesFix(g inventory.AutoScalingGroup, ref inventory.LaunchTemplateRef, bad []string) string {
	var keep []string
	for _, t := range g.OverrideTypes {
		if !slices.Contains(bad, t) {
			keep = append(keep, fmt.Sprintf(`{"InstanceType":%q}`, t))
		}
	}
	spec := fmt.Sprintf(`"LaunchTemplateId":%q`, ref.ID)
	if ref.ID == "" {
		spec = fmt.Sprintf(`"LaunchTemplateName":%q`, ref.Name)
	}
	if ref.Version != "" {
		spec += fmt.Sprintf(`,"Version":%q`, ref.Version)
	}
	return fmt.Sprintf(`remove %s from group %s's instance types: aws autoscaling update-auto-scaling-group --auto-scaling-group-name %s --mixed-instances-policy '{"LaunchTemplate":{"LaunchTemplateSpecification":{%s},"Overrides":[%s]}}'`,
		strings.Join(bad, ", "), g.Name, g.Name, spec, strings.Join(keep, ","))
}

// trunkingAlternative suggests a supported type of the same size as t:
// m5 first, then c5 (both in ECS's table at every common size).
func trunkingAlternative(cat *catalog.Catalog, t string) string {
	_, size, _ := strings.Cut(t, ".")
	for _, f := range []string{"m5", "c5"} {
		if it := cat.Lookup(f + "." + size); it.Support == catalog.Supported {
			return it.Name
		}
	}
	return "m5.large"
}

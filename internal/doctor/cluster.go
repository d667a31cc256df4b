package doctor

import (
	"sort"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// roleFacts is what Input knows of the role of one EC2 instance: nil when
// the instance has no role or its setting could not be read.
func (in Input) roleFacts(ec2ID string) *RoleFacts {
	arns := in.Snapshot.InstanceRoles[ec2ID]
	if len(arns) == 0 {
		return nil
	}
	for _, st := range in.Roles {
		if st.RoleArn == arns[0] {
			if st.Err != nil {
				return nil
			}
			return &RoleFacts{Arn: st.RoleArn, Value: st.EffectiveValue, Source: string(st.Source)}
		}
	}
	return nil
}

// Facts gathers, for each container instance in order, what the judge
// looks at.
func (in Input) Facts() []InstanceFacts {
	awsvpc := map[string]int{}
	for _, t := range in.Snapshot.Tasks {
		if t.AWSVPC() {
			awsvpc[t.ContainerInstanceArn]++
		}
	}
	groupOf := map[string]inventory.AutoScalingGroup{}
	for _, g := range in.Signals.Groups {
		for _, id := range g.InstanceIDs {
			groupOf[id] = g
		}
	}
	out := make([]InstanceFacts, 0, len(in.Snapshot.ContainerInstances))
	for _, ci := range in.Snapshot.ContainerInstances {
		f := InstanceFacts{
			Cluster: in.Snapshot.Cluster, AccountID: in.AccountID, CI: ci, Host: ci.Host,
			Type: in.Catalog.Lookup(ci.InstanceType), AWSVPCTasks: awsvpc[ci.Arn],
			Role: in.roleFacts(ci.EC2InstanceID),
		}
		if arns := in.Snapshot.InstanceRoles[ci.EC2InstanceID]; f.Role == nil && len(arns) > 0 {
			f.UnreadRole = arns[0]
		}
		in.ec2Facts(&f)
		if cp, ok := in.Signals.Providers[ci.CapacityProvider]; ok {
			f.Provider = &cp
		}
		if g, ok := groupOf[ci.EC2InstanceID]; ok && g.LaunchTemplate != nil {
			f.LaunchTemplate = g.LaunchTemplate.ID + g.LaunchTemplate.Name
			if lt, ok := in.Signals.Templates[g.LaunchTemplate.Key()]; ok {
				f.LaunchTemplate = lt.ID
			}
		}
		f.AmazonLinux = in.amazonLinux(ci)
		if f.Role != nil {
			f.OptIn = LatestOptIn(in.Signals.OptInEvents, f.Role.Arn)
		}
		out = append(out, f)
	}
	addTrunkedSiblings(out)
	return out
}

// ec2Facts adds what EC2 says of the instance: its operator and subnet.
func (in Input) ec2Facts(f *InstanceFacts) {
	inst, ok := in.Snapshot.Instances[f.CI.EC2InstanceID]
	if !ok {
		return
	}
	f.Instance = &inst
	f.Operator = inst.Operator
	f.SubnetID = inst.SubnetID
	if s, ok := in.Snapshot.Subnets[inst.SubnetID]; ok && in.AccountID != "" && s.OwnerID != "" && s.OwnerID != in.AccountID {
		f.SubnetOwner = s.OwnerID
	}
}

// amazonLinux says whether the host is Amazon Linux: not when the agent
// reports bottlerocket.variant; else from the AMI when it was described.
func (in Input) amazonLinux(ci inventory.ContainerInstance) *bool {
	if ci.Host.Bottlerocket != "" {
		return boolPtr(false)
	}
	if im, ok := in.Images[ci.AMI]; ok && ci.AMI != "" {
		return boolPtr(im.IsAmazonLinux())
	}
	return nil
}

// addTrunkedSiblings gives each untrunked instance the earliest trunked
// instance of the same role that registered after it: evidence that the
// role was enabled in between.
func addTrunkedSiblings(fs []InstanceFacts) {
	trunkedByRole := map[string][]InstanceFacts{}
	for _, f := range fs {
		if f.Role != nil && f.CI.TrunkENI != "" {
			trunkedByRole[f.Role.Arn] = append(trunkedByRole[f.Role.Arn], f)
		}
	}
	for i := range fs {
		f := &fs[i]
		if f.Role == nil || f.CI.TrunkENI != "" || f.CI.RegisteredAt.IsZero() {
			continue
		}
		for _, s := range trunkedByRole[f.Role.Arn] {
			if s.CI.RegisteredAt.After(f.CI.RegisteredAt) && (f.TrunkedLater == nil || s.CI.RegisteredAt.Before(f.TrunkedLater.RegisteredAt)) {
				f.TrunkedLater = &Sibling{EC2InstanceID: s.CI.EC2InstanceID, RegisteredAt: s.CI.RegisteredAt}
			}
		}
	}
}

func boolPtr(b bool) *bool { return &b }

// NeedsOptInRecord says whether CloudTrail's opt-in events could change a
// verdict: some ACTIVE instance without a trunk whose role is enabled by its
// own setting (only then does "when" matter). The caller reads them only
// then (Signals.OptInEvents).
func NeedsOptInRecord(in Input) bool {
	for _, ci := range in.Snapshot.ContainerInstances {
		if ci.TrunkENI != "" || ci.Status != "ACTIVE" {
			continue
		}
		if r := in.roleFacts(ci.EC2InstanceID); r != nil && r.Value == "enabled" && r.Source == "principal" {
			return true
		}
	}
	return false
}

// Unhealthy reports whether the report calls for action: any error
// finding, or any instance whose verdict is unhealthy. `doctor` and
// `instances` exit 3 on it alike.
func (r Report) Unhealthy() bool {
	for _, f := range r.Findings {
		if f.Severity == Error {
			return true
		}
	}
	for _, i := range r.Instances {
		if !i.Verdict.Healthy {
			return true
		}
	}
	return false
}

// instanceFindings turns the verdicts that need a look into findings.
func instanceFindings(reports []InstanceReport, add func(Finding)) {
	for _, r := range reports {
		v, ci := r.Verdict, r.ContainerInstance
		if v.Healthy && v.Severity == Info {
			continue
		}
		subject := ci.EC2InstanceID
		if subject == "" {
			subject = ci.Arn
		}
		add(Finding{Check: CheckInstance, Severity: v.Severity, Subject: subject, Message: v.Message, Fix: v.Fix, Verdict: &v})
	}
}

// rolesWithoutTrunks returns, per role ARN, the ACTIVE EC2 instances of
// that role without a trunk.
func rolesWithoutTrunks(in Input, facts []InstanceFacts) map[string][]string {
	out := map[string][]string{}
	for _, f := range facts {
		ci := f.CI
		if ci.TrunkENI != "" || ci.Status != "ACTIVE" || f.managed() {
			continue
		}
		if arns := in.Snapshot.InstanceRoles[ci.EC2InstanceID]; len(arns) > 0 {
			out[arns[0]] = append(out[arns[0]], ci.EC2InstanceID)
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

// AsReplacement is like's facts for ci, a container instance that
// registered to replace like: the same role, subnet, OS, launch template
// and capacity provider (the input like was judged with), with ci's own
// registration, type and attributes.
func (f InstanceFacts) AsReplacement(ci inventory.ContainerInstance, cat *catalog.Catalog) InstanceFacts {
	f.CI, f.Host, f.Type, f.AWSVPCTasks, f.TrunkedLater = ci, ci.Host, cat.Lookup(ci.InstanceType), 0, nil
	return f
}

// JudgeReplacement judges ci as the replacement of the EC2 instance like,
// with the same input as like; a like the input does not hold is judged
// from ci alone.
func (in Input) JudgeReplacement(like string, ci inventory.ContainerInstance) Verdict {
	for _, f := range in.Facts() {
		if f.CI.EC2InstanceID == like {
			return JudgeInstance(f.AsReplacement(ci, in.Catalog))
		}
	}
	return JudgeInstance(InstanceFacts{Cluster: in.Snapshot.Cluster, AccountID: in.AccountID, CI: ci, Host: ci.Host, Type: in.Catalog.Lookup(ci.InstanceType)})
}

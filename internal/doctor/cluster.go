package doctor

import (
	"sort"

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
		if st.Arn == arns[0] {
			if st.Err != nil {
				return nil
			}
			return &RoleFacts{Arn: st.Arn, Value: st.EffectiveValue, Source: st.Source}
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
	// Trunked instances by role, for the "a later sibling got a trunk" evidence.
	trunkedByRole := map[string][]InstanceFacts{}
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
		if inst, ok := in.Snapshot.Instances[ci.EC2InstanceID]; ok {
			inst := inst
			f.Instance = &inst
			f.Operator = inst.Operator
			f.SubnetID = inst.SubnetID
			if s, ok := in.Snapshot.Subnets[inst.SubnetID]; ok && in.AccountID != "" && s.OwnerID != "" && s.OwnerID != in.AccountID {
				f.SubnetOwner = s.OwnerID
			}
		}
		if cp, ok := in.Signals.Providers[ci.CapacityProvider]; ok {
			cp := cp
			f.Provider = &cp
		}
		if g, ok := groupOf[ci.EC2InstanceID]; ok && g.LaunchTemplate != nil {
			if lt, ok := in.Signals.Templates[g.LaunchTemplate.Key()]; ok {
				f.LaunchTemplate = lt.ID
			} else {
				f.LaunchTemplate = g.LaunchTemplate.ID + g.LaunchTemplate.Name
			}
		}
		switch {
		case ci.Host.Bottlerocket != "":
			f.AmazonLinux = boolPtr(false)
		case ci.AMI != "":
			if im, ok := in.Images[ci.AMI]; ok {
				f.AmazonLinux = boolPtr(im.IsAmazonLinux())
			}
		}
		if f.Role != nil {
			f.OptIn = LatestOptIn(in.Signals.OptInEvents, f.Role.Arn)
			if ci.TrunkENI != "" {
				trunkedByRole[f.Role.Arn] = append(trunkedByRole[f.Role.Arn], f)
			}
		}
		out = append(out, f)
	}
	for i := range out {
		f := &out[i]
		if f.Role == nil || f.CI.TrunkENI != "" || f.CI.RegisteredAt.IsZero() {
			continue
		}
		// The earliest trunked sibling registered after this one.
		for _, s := range trunkedByRole[f.Role.Arn] {
			if s.CI.RegisteredAt.After(f.CI.RegisteredAt) && (f.TrunkedLater == nil || s.CI.RegisteredAt.Before(f.TrunkedLater.RegisteredAt)) {
				f.TrunkedLater = &Sibling{EC2InstanceID: s.CI.EC2InstanceID, RegisteredAt: s.CI.RegisteredAt}
			}
		}
	}
	return out
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
func rolesWithoutTrunks(in Input) map[string][]string {
	out := map[string][]string{}
	for _, ci := range in.Snapshot.ContainerInstances {
		if ci.TrunkENI != "" || ci.Status != "ACTIVE" {
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

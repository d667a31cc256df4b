package doctor

import (
	"sort"
	"strings"

	"github.com/trunkctl/trunkctl/internal/inventory"
)

// roleFacts is what Input knows of the role of one EC2 instance.
func (in Input) roleFacts(ec2ID string) *RoleFacts {
	r := in.InstanceRoles[ec2ID]
	if r == nil {
		return nil
	}
	for _, st := range in.Roles {
		if st.Arn == r.RoleArn {
			if st.Err != nil {
				return nil
			}
			return &RoleFacts{Arn: st.Arn, Value: st.EffectiveValue, Source: st.Source}
		}
	}
	v := "disabled"
	if r.Enabled {
		v = "enabled"
	}
	return &RoleFacts{Arn: r.RoleArn, Value: v}
}

// Facts gathers, for each container instance in order, what the judge
// looks at.
func (in Input) Facts() []InstanceFacts {
	awsvpc := map[string]int{}
	for _, t := range in.Tasks {
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
	out := make([]InstanceFacts, 0, len(in.ContainerInstances))
	for _, ci := range in.ContainerInstances {
		f := InstanceFacts{
			Cluster: in.Cluster, AccountID: in.AccountID, CI: ci, Host: ci.Host,
			Type: in.Catalog.Lookup(ci.InstanceType), AWSVPCTasks: awsvpc[ci.Arn],
			Role: in.roleFacts(ci.EC2InstanceID),
		}
		if inst, ok := in.Instances[ci.EC2InstanceID]; ok {
			inst := inst
			f.Instance = &inst
			f.Operator = inst.Operator
			f.SubnetID = inst.SubnetID
			if s, ok := in.Subnets[inst.SubnetID]; ok && in.AccountID != "" && s.OwnerID != "" && s.OwnerID != in.AccountID {
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

// Verdicts judges every container instance, in the order of
// in.ContainerInstances: `instances` and `doctor` both show these.
func Verdicts(in Input) []InstanceVerdict {
	fs := in.Facts()
	out := make([]InstanceVerdict, len(fs))
	for i, f := range fs {
		out[i] = JudgeInstance(f)
	}
	return out
}

// NeedsOptInRecord says whether CloudTrail's opt-in events could change a
// verdict: some instance without a trunk whose role is enabled by its own
// setting (only then does "when" matter).
func NeedsOptInRecord(cis []inventory.ContainerInstance, roleOf func(ec2ID string) (arn, value, source string, ok bool)) bool {
	for _, ci := range cis {
		if ci.TrunkENI != "" || ci.Status != "ACTIVE" {
			continue
		}
		if _, v, src, ok := roleOf(ci.EC2InstanceID); ok && v == "enabled" && src == "principal" {
			return true
		}
	}
	return false
}

// Unhealthy reports whether the findings call for action: any error, or
// any instance whose verdict is unhealthy. `doctor` and `instances` exit 3
// on it alike.
func Unhealthy(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == Error || (f.Verdict != nil && !f.Verdict.Healthy) {
			return true
		}
	}
	return false
}

// instanceFindings turns the unhealthy (and managed) verdicts into findings.
func instanceFindings(in Input, vs []InstanceVerdict, add func(Finding)) {
	for i, v := range vs {
		ci := in.ContainerInstances[i]
		subject := ci.EC2InstanceID
		if subject == "" {
			subject = ci.Arn
		}
		if v.Healthy && v.Severity == Info {
			continue
		}
		v := v
		msg := v.Message
		if len(v.Evidence) > 0 {
			msg += " [" + strings.Join(v.Evidence, "; ") + "]"
		}
		add(Finding{Check: CheckInstance, Severity: v.Severity, Subject: subject, Message: msg, Fix: v.Fix, Verdict: &v})
	}
}

// rolesWithoutTrunks returns, per role ARN, the EC2 instances of that role
// without a trunk (ACTIVE ones).
func rolesWithoutTrunks(in Input) map[string][]string {
	out := map[string][]string{}
	for _, ci := range in.ContainerInstances {
		if ci.TrunkENI != "" || ci.Status != "ACTIVE" {
			continue
		}
		if r := in.InstanceRoles[ci.EC2InstanceID]; r != nil {
			out[r.RoleArn] = append(out[r.RoleArn], ci.EC2InstanceID)
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

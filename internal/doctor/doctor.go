// Package doctor is trunkctl's judge: it turns what inventory read of a
// cluster (and what the account settings say) into a verdict per container
// instance and findings about the cluster, each with a severity, the thing it
// is about, and the exact fix (a command or a setting). It calls nothing:
// the instances and doctor commands (and rollout, next) gather an Input and
// call Judge.
package doctor

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Severity of a finding. Any Error makes `trunkctl doctor` exit 3.
type Severity string

const (
	// Error needs fixing before trunking works (exit 3).
	Error Severity = "error"
	// Warning could not be judged, or will hurt soon.
	Warning Severity = "warning"
	// Info is for the record.
	Info Severity = "info"
)

// Check names, stable for scripts.
const (
	CheckCluster           = "cluster"
	CheckServiceLinked     = "service-linked-role"
	CheckRoleOptIn         = "role-opt-in"
	CheckInstance          = "instance"
	CheckAgentOS           = "agent-version-os"
	CheckDNSARecord        = "resource-name-dns-a-record"
	CheckSharedSubnet      = "shared-subnet"
	CheckStuckProvisioning = "task-stuck-provisioning"
	CheckCapacity          = "eni-capacity"
	CheckSummary           = "summary"
)

// Finding is one result (JSON contract).
type Finding struct {
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	Subject  string   `json:"subject"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix,omitempty"`
	// Verdict is the instance verdict an "instance" finding reports, with
	// its evidence and remedy (for trunkctl rollout).
	Verdict *Verdict `json:"verdict,omitempty"`
}

// Input is everything the judge looks at: what inventory read, what the
// account settings say, and what the caller knows. A new signal is a new
// field; a zero field means "not read", and the checks that need it say so
// or stay silent.
type Input struct {
	// Snapshot is the cluster as inventory read it.
	Snapshot inventory.Snapshot
	// Roles are the settings of the instance roles in Snapshot.InstanceRoles
	// (Err set where a setting could not be read).
	Roles     []accountsetting.RoleSetting
	Catalog   *catalog.Catalog
	Now       time.Time
	AccountID string
	Region    string
	// StuckAfter is how long a task may be PROVISIONING (0: not checked).
	StuckAfter time.Duration
	// ServiceLinkedRole: whether AWSServiceRoleForECS exists; nil when it
	// was not checked (ServiceLinkedErr says why, when it failed).
	ServiceLinkedRole *bool
	ServiceLinkedErr  error
	// Images are the AMIs ImagesToDescribe named; ImagesErr says why they
	// could not be described.
	Images    map[string]inventory.Image
	ImagesErr error
	// Signals are the capacity providers, their groups and launch
	// templates, services' events, stopped tasks and CloudTrail's opt-in
	// events (inventory.ReadSignals); each part has its own error.
	Signals inventory.SignalSet
}

// InstanceReport is the judgement on one container instance.
type InstanceReport struct {
	ContainerInstance inventory.ContainerInstance
	Type              catalog.InstanceType
	Usage             Usage
	// Role is the instance role's current setting, nil when not known.
	Role    *RoleOptIn
	Verdict Verdict
}

// Report is what the judge decided: a verdict per container instance (in
// Snapshot order) and findings, sorted by severity, check and subject.
type Report struct {
	Instances []InstanceReport
	Findings  []Finding
}

// Judge decides every verdict and finding. It calls nothing.
func Judge(in Input) Report {
	var r Report
	add := func(f Finding) { r.Findings = append(r.Findings, f) }
	roles := roleOptIns(in)
	facts := in.Facts()
	for _, f := range facts {
		ci := f.CI
		r.Instances = append(r.Instances, InstanceReport{ContainerInstance: ci, Type: f.Type, Usage: UsageOf(ci, f.Type, f.AWSVPCTasks),
			Role: roles[ci.EC2InstanceID], Verdict: JudgeInstance(f)})
	}
	checkServiceLinkedRole(in, add)
	checkRoles(in, facts, add)
	checkInstances(in, r.Instances, add)
	checkProvisioning(in, add)
	checkNextInstance(in, add)
	checkServiceEvents(in, add)
	checkStoppedTasks(in, add)
	checkOptInRecord(in, add)
	checkTrunkENILimits(in, add)
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if rank(a.Severity) != rank(b.Severity) {
			return rank(a.Severity) < rank(b.Severity)
		}
		if a.Check != b.Check {
			return a.Check < b.Check
		}
		return a.Subject < b.Subject
	})
	return r
}

// ImagesToDescribe are the AMIs whose OS the judge needs: those of agents
// new enough on Amazon Linux but not elsewhere.
func ImagesToDescribe(s inventory.Snapshot) []string {
	var amis []string
	for _, ci := range s.ContainerInstances {
		if ci.AgentVersion != "" && CompareVersions(ci.AgentVersion, MinAgent) >= 0 &&
			CompareVersions(ci.AgentVersion, MinAgentNonAmzn) < 0 && ci.AMI != "" {
			amis = append(amis, ci.AMI)
		}
	}
	return amis
}

// roleOptIns maps each EC2 instance to its role's setting, where it was read.
func roleOptIns(in Input) map[string]*RoleOptIn {
	byArn := map[string]accountsetting.RoleSetting{}
	for _, r := range in.Roles {
		byArn[r.RoleArn] = r
	}
	out := map[string]*RoleOptIn{}
	for id, arns := range in.Snapshot.InstanceRoles {
		if r, ok := byArn[arns[0]]; ok && r.Err == nil {
			out[id] = &RoleOptIn{RoleArn: r.RoleArn, Enabled: r.EffectiveValue == "enabled"}
		}
	}
	return out
}

func rank(s Severity) int {
	switch s {
	case Error:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// Count returns the number of findings per severity.
func Count(fs []Finding) map[Severity]int {
	out := map[Severity]int{Error: 0, Warning: 0, Info: 0}
	for _, f := range fs {
		out[f.Severity]++
	}
	return out
}

func checkServiceLinkedRole(in Input, add func(Finding)) {
	const name = "AWSServiceRoleForECS"
	switch {
	case in.ServiceLinkedRole == nil:
		add(Finding{Check: CheckServiceLinked, Severity: Warning, Subject: name, Message: fmt.Sprintf("could not check that the ECS service-linked role exists: %v", in.ServiceLinkedErr), Fix: "allow iam:GetRole on it, or check: aws iam get-role --role-name " + name})
	case !*in.ServiceLinkedRole:
		add(Finding{Check: CheckServiceLinked, Severity: Error, Subject: name, Message: "the ECS service-linked role does not exist; ECS cannot create trunk ENIs without it", Fix: "aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com"})
	}
}

// checkRoles judges each instance role's setting. ECS Managed Instances
// get their trunk from ECS without the account setting, so a role that
// serves only Managed Instances needs nothing (info at most), and a role
// serving both kinds is judged on its other instances.
func checkRoles(in Input, facts []InstanceFacts, add func(Finding)) {
	if in.Snapshot.RolesErr != nil {
		add(Finding{Check: CheckRoleOptIn, Severity: Warning, Subject: in.Snapshot.Cluster, Message: "could not find the instance roles behind the cluster: " + in.Snapshot.RolesErr.Error(), Fix: "allow ec2:DescribeInstances and iam:GetInstanceProfile, or check the role directly: trunkctl status --role ROLE"})
		return
	}
	managed, self := 0, map[string]int{}
	for _, f := range facts {
		if f.managed() {
			managed++
			continue
		}
		if arns := in.Snapshot.InstanceRoles[f.CI.EC2InstanceID]; len(arns) > 0 {
			self[arns[0]]++
		}
	}
	if len(in.Roles) == 0 && len(facts) > managed {
		add(Finding{Check: CheckRoleOptIn, Severity: Warning, Subject: in.Snapshot.Cluster, Message: "found no instance role behind the container instances (no instance profiles?)", Fix: "launch container instances with an instance profile whose role is opted in: trunkctl enable --role ROLE"})
	}
	untrunked := rolesWithoutTrunks(in, facts)
	for _, r := range in.Roles {
		if self[r.RoleArn] == 0 {
			if !r.Is("enabled") {
				add(Finding{Check: CheckRoleOptIn, Severity: Info, Subject: r.RoleArn, Message: "the role serves only ECS Managed Instances, which get their trunk from ECS without the account setting; it needs no opt-in"})
			}
			continue
		}
		switch {
		case r.Err != nil:
			add(Finding{Check: CheckRoleOptIn, Severity: Warning, Subject: r.RoleArn, Message: "could not read awsvpcTrunking for the role: " + r.Err.Error(), Fix: "run as the account root, as the role, or as a principal its trust policy allows: trunkctl status --role " + r.RoleArn})
		case r.EffectiveValue != "enabled":
			from := "the account default"
			if r.Source == "principal" {
				from = "the role's own setting"
			}
			add(Finding{Check: CheckRoleOptIn, Severity: Error, Subject: r.RoleArn, Message: fmt.Sprintf("awsvpcTrunking is %s for the role (from %s), so instances registered now get no trunk", r.EffectiveValue, from), Fix: "trunkctl enable --role " + r.RoleArn})
		case r.Source == "default" && len(untrunked[r.RoleArn]) > 0:
			add(Finding{Check: CheckRoleOptIn, Severity: Error, Subject: r.RoleArn, Message: fmt.Sprintf("awsvpcTrunking is enabled only through the account default, and %d of the role's instances have no trunk (%s)", len(untrunked[r.RoleArn]), strings.Join(firstN(untrunked[r.RoleArn], 5), ", ")),
				Fix: "trunkctl enable --role " + r.RoleArn + " first (the role's own setting), then replace those instances: trunkctl rollout --cluster " + in.Snapshot.Cluster})
		case r.Source == "default":
			add(Finding{Check: CheckRoleOptIn, Severity: Info, Subject: r.RoleArn, Message: "awsvpcTrunking is enabled through the account default, not the role's own setting; a change of the default would turn it off",
				Fix: "trunkctl enable --role " + r.RoleArn})
		}
	}
}

func checkInstances(in Input, reports []InstanceReport, add func(Finding)) {
	if len(reports) == 0 {
		add(Finding{Check: CheckCluster, Severity: Warning, Subject: in.Snapshot.Cluster, Message: "the cluster has no container instances",
			Fix: "launch instances with ECS_CLUSTER=" + in.Snapshot.Cluster + " in /etc/ecs/ecs.config, after their role is enabled"})
		return
	}
	instanceFindings(reports, add)
	trunked, tasks := 0, 0
	for _, r := range reports {
		ci, v, u := r.ContainerInstance, r.Verdict, r.Usage
		subject := ci.EC2InstanceID
		if subject == "" {
			subject = ci.Arn
		}
		if ci.TrunkENI != "" {
			trunked++
		}
		tasks += u.AWSVPCTasks
		if v.Code != VerdictAgentTooOldForOS && v.Code != VerdictManaged && v.Code != VerdictHostCannotTrunk {
			checkAgentOS(in, ci, subject, add)
		}
		inst, described := in.Snapshot.Instances[ci.EC2InstanceID]
		// The verdict names the first thing that keeps the instance from a
		// trunk; these say the other launch problems it has too.
		if described && inst.ResourceNameDNSARecord != nil && *inst.ResourceNameDNSARecord && v.Code != VerdictDNSARecord {
			sev, msg := Error, "resource-based IPv4 DNS A records are on; ECS gives such instances no trunk"
			if ci.TrunkENI != "" {
				sev, msg = Warning, "resource-based IPv4 DNS A records are on (this instance has a trunk, but instances launched the same way may not)"
			}
			add(Finding{Check: CheckDNSARecord, Severity: sev, Subject: subject, Message: msg,
				Fix: "set PrivateDnsNameOptions.EnableResourceNameDnsARecord=false in the launch template (for this instance: aws ec2 modify-private-dns-name-options --instance-id " + ci.EC2InstanceID + " --no-enable-resource-name-dns-a-record)"})
		}
		if s, ok := in.Snapshot.Subnets[inst.SubnetID]; described && ok && v.Code != VerdictSharedSubnet && in.AccountID != "" && s.OwnerID != "" && s.OwnerID != in.AccountID {
			add(Finding{Check: CheckSharedSubnet, Severity: Error, Subject: subject, Message: fmt.Sprintf("subnet %s is shared from account %s; ENI trunking does not support shared (RAM) subnets", s.ID, s.OwnerID),
				Fix: "launch container instances in a subnet owned by account " + in.AccountID})
		}
		if u.Limit > 0 && u.AWSVPCTasks >= u.Limit {
			add(Finding{Check: CheckCapacity, Severity: Warning, Subject: subject, Message: fmt.Sprintf("%d of %d awsvpc tasks in use: new tasks fail placement with RESOURCE:ENI", u.AWSVPCTasks, u.Limit),
				Fix: "add container instances, or use a type with more tasks: trunkctl capacity --family " + r.Type.Family})
		}
	}
	if in.Snapshot.SubnetsErr != nil {
		add(Finding{Check: CheckSharedSubnet, Severity: Warning, Subject: in.Snapshot.Cluster, Message: "could not describe the instances' subnets, so shared subnets were not checked: " + in.Snapshot.SubnetsErr.Error(),
			Fix: "allow ec2:DescribeSubnets"})
	}
	add(Finding{Check: CheckSummary, Severity: Info, Subject: in.Snapshot.Cluster, Message: fmt.Sprintf("%d container instance(s), %d with a trunk ENI, %d awsvpc task(s)", len(reports), trunked, tasks)})
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(append([]string(nil), s[:n]...), fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}

// checkAgentOS: agents from 1.28.1 trunk on Amazon Linux; elsewhere (Ubuntu
// and others) they need 1.29.1. The OS comes from the instance's AMI name.
func checkAgentOS(in Input, ci inventory.ContainerInstance, subject string, add func(Finding)) {
	if ci.AgentVersion == "" || strings.EqualFold(ci.OSType, "windows") ||
		CompareVersions(ci.AgentVersion, MinAgent) < 0 ||
		CompareVersions(ci.AgentVersion, MinAgentNonAmzn) >= 0 {
		return
	}
	im, ok := in.Images[ci.AMI]
	switch {
	case !ok:
		why := "is gone"
		if in.ImagesErr != nil {
			why = "could not be described (" + in.ImagesErr.Error() + ")"
		}
		add(Finding{Check: CheckAgentOS, Severity: Warning, Subject: subject, Message: fmt.Sprintf("agent %s is enough on Amazon Linux but not elsewhere (needs %s), and AMI %s %s, so the OS is not known", ci.AgentVersion, MinAgentNonAmzn, ci.AMI, why), Fix: fmt.Sprintf("aws ecs update-container-agent --cluster %s --container-instance %s", in.Snapshot.Cluster, ci.ID())})
	case !im.IsAmazonLinux():
		add(Finding{Check: CheckAgentOS, Severity: Error, Subject: subject, Message: fmt.Sprintf("agent %s on %s (not Amazon Linux) needs >= %s for trunking", ci.AgentVersion, im.Name, MinAgentNonAmzn), Fix: fmt.Sprintf("install ECS agent >= %s (ecs-init package), or use an ECS-optimized Amazon Linux AMI; then replace the instance", MinAgentNonAmzn)})
	}
}

// Package doctor turns what trunkctl gathered about a cluster into findings:
// each with a severity, the thing it is about, and the exact fix (a command
// or a setting). It calls nothing; the CLI gathers the Input.
package doctor

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Severity of a finding. Any Error makes `trunkctl doctor` exit 3.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
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
	Verdict *InstanceVerdict `json:"verdict,omitempty"`
}

// Role is what is known of one instance role's setting.
type Role struct {
	Arn            string
	EffectiveValue string
	Source         string
	// Err is set when the setting could not be read (e.g. no access).
	Err error
}

// Input is everything the checks look at.
type Input struct {
	Cluster            string
	AccountID          string
	Region             string
	Now                time.Time
	StuckAfter         time.Duration
	Catalog            *catalog.Catalog
	ContainerInstances []inventory.ContainerInstance
	Tasks              []inventory.Task
	Instances          map[string]inventory.Instance
	Subnets            map[string]inventory.Subnet
	Images             map[string]inventory.Image
	Roles              []Role
	// ServiceLinkedRole: whether AWSServiceRoleForECS exists; nil when it
	// could not be checked (ServiceLinkedErr says why).
	ServiceLinkedRole *bool
	ServiceLinkedErr  error
	// InstanceRoles: each EC2 instance's role setting, where it could be read.
	InstanceRoles map[string]*inventory.RoleOptIn
	// RolesErr: the roles behind the cluster could not be found.
	RolesErr error
	// SubnetsErr, ImagesErr: those reads failed, so their checks were skipped.
	SubnetsErr error
	ImagesErr  error
	// Signals: capacity providers, groups, launch templates, services'
	// events, stopped tasks, CloudTrail (see signals.go).
	Signals Signals
}

// Run runs every check and returns findings sorted by severity, check, subject.
func Run(in Input) []Finding {
	var fs []Finding
	add := func(f Finding) { fs = append(fs, f) }
	checkServiceLinkedRole(in, add)
	checkRoles(in, add)
	checkInstances(in, Verdicts(in), add)
	checkProvisioning(in, add)
	checkNextInstance(in, add)
	checkServiceEvents(in, add)
	checkStoppedTasks(in, add)
	checkOptInRecord(in, add)
	checkTrunkENILimits(in, add)
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if rank(a.Severity) != rank(b.Severity) {
			return rank(a.Severity) < rank(b.Severity)
		}
		if a.Check != b.Check {
			return a.Check < b.Check
		}
		return a.Subject < b.Subject
	})
	return fs
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

func checkRoles(in Input, add func(Finding)) {
	if in.RolesErr != nil {
		add(Finding{Check: CheckRoleOptIn, Severity: Warning, Subject: in.Cluster, Message: "could not find the instance roles behind the cluster: " + in.RolesErr.Error(), Fix: "allow ec2:DescribeInstances and iam:GetInstanceProfile, or check the role directly: trunkctl status --role ROLE"})
		return
	}
	if len(in.Roles) == 0 && len(in.ContainerInstances) > 0 {
		add(Finding{Check: CheckRoleOptIn, Severity: Warning, Subject: in.Cluster, Message: "found no instance role behind the container instances (no instance profiles?)", Fix: "launch container instances with an instance profile whose role is opted in: trunkctl enable --role ROLE"})
	}
	untrunked := rolesWithoutTrunks(in)
	for _, r := range in.Roles {
		switch {
		case r.Err != nil:
			add(Finding{Check: CheckRoleOptIn, Severity: Warning, Subject: r.Arn, Message: "could not read awsvpcTrunking for the role: " + r.Err.Error(), Fix: "run as the account root, as the role, or as a principal its trust policy allows: trunkctl status --role " + r.Arn})
		case r.EffectiveValue != "enabled":
			from := "the account default"
			if r.Source == "principal" {
				from = "the role's own setting"
			}
			add(Finding{Check: CheckRoleOptIn, Severity: Error, Subject: r.Arn, Message: fmt.Sprintf("awsvpcTrunking is %s for the role (from %s), so instances registered now get no trunk", r.EffectiveValue, from), Fix: "trunkctl enable --role " + r.Arn})
		case r.Source == "default" && len(untrunked[r.Arn]) > 0:
			add(Finding{Check: CheckRoleOptIn, Severity: Error, Subject: r.Arn, Message: fmt.Sprintf("awsvpcTrunking is enabled only through the account default, and %d of the role's instances have no trunk (%s)", len(untrunked[r.Arn]), strings.Join(firstN(untrunked[r.Arn], 5), ", ")),
				Fix: "trunkctl enable --role " + r.Arn + " first (the role's own setting), then replace those instances: trunkctl rollout --cluster " + in.Cluster})
		case r.Source == "default":
			add(Finding{Check: CheckRoleOptIn, Severity: Info, Subject: r.Arn, Message: "awsvpcTrunking is enabled through the account default, not the role's own setting; a change of the default would turn it off",
				Fix: "trunkctl enable --role " + r.Arn})
		}
	}
}

func checkInstances(in Input, vs []InstanceVerdict, add func(Finding)) {
	awsvpc := map[string]int{}
	for _, t := range in.Tasks {
		if t.AWSVPC() {
			awsvpc[t.ContainerInstanceArn]++
		}
	}
	if len(in.ContainerInstances) == 0 {
		add(Finding{Check: CheckCluster, Severity: Warning, Subject: in.Cluster, Message: "the cluster has no container instances",
			Fix: "launch instances with ECS_CLUSTER=" + in.Cluster + " in /etc/ecs/ecs.config, after their role is enabled"})
		return
	}
	instanceFindings(in, vs, add)
	trunked, tasks := 0, 0
	for i, ci := range in.ContainerInstances {
		v := vs[i]
		it := in.Catalog.Lookup(ci.InstanceType)
		subject := ci.EC2InstanceID
		if subject == "" {
			subject = ci.Arn
		}
		if ci.TrunkENI != "" {
			trunked++
		}
		tasks += awsvpc[ci.Arn]
		if v.Code != VerdictAgentTooOldForOS && v.Code != VerdictManaged && v.Code != VerdictHostCannotTrunk {
			checkAgentOS(in, ci, subject, add)
		}
		inst, described := in.Instances[ci.EC2InstanceID]
		if described && inst.ResourceNameDNSARecord != nil && *inst.ResourceNameDNSARecord && ci.TrunkENI != "" {
			// Without a trunk the instance verdict says it; with one, instances
			// launched the same way may still get none.
			add(Finding{Check: CheckDNSARecord, Severity: Warning, Subject: subject, Message: "resource-based IPv4 DNS A records are on (this instance has a trunk, but instances launched the same way may not)",
				Fix: "set PrivateDnsNameOptions.EnableResourceNameDnsARecord=false in the launch template (for this instance: aws ec2 modify-private-dns-name-options --instance-id " + ci.EC2InstanceID + " --no-enable-resource-name-dns-a-record)"})
		}
		u := inventory.UsageOf(ci, it, awsvpc[ci.Arn])
		if u.Limit > 0 && u.AWSVPCTasks >= u.Limit {
			add(Finding{Check: CheckCapacity, Severity: Warning, Subject: subject, Message: fmt.Sprintf("%d of %d awsvpc tasks in use: new tasks fail placement with RESOURCE:ENI", u.AWSVPCTasks, u.Limit),
				Fix: "add container instances, or use a type with more tasks: trunkctl capacity --family " + it.Family})
		}
	}
	if in.SubnetsErr != nil {
		add(Finding{Check: CheckSharedSubnet, Severity: Warning, Subject: in.Cluster, Message: "could not describe the instances' subnets, so shared subnets were not checked: " + in.SubnetsErr.Error(),
			Fix: "allow ec2:DescribeSubnets"})
	}
	add(Finding{Check: CheckSummary, Severity: Info, Subject: in.Cluster, Message: fmt.Sprintf("%d container instance(s), %d with a trunk ENI, %d awsvpc task(s)", len(in.ContainerInstances), trunked, tasks)})
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
		inventory.CompareVersions(ci.AgentVersion, inventory.MinAgent) < 0 ||
		inventory.CompareVersions(ci.AgentVersion, inventory.MinAgentNonAmzn) >= 0 {
		return
	}
	im, ok := in.Images[ci.AMI]
	switch {
	case !ok:
		why := "is gone"
		if in.ImagesErr != nil {
			why = "could not be described (" + in.ImagesErr.Error() + ")"
		}
		add(Finding{Check: CheckAgentOS, Severity: Warning, Subject: subject, Message: fmt.Sprintf("agent %s is enough on Amazon Linux but not elsewhere (needs %s), and AMI %s %s, so the OS is not known", ci.AgentVersion, inventory.MinAgentNonAmzn, ci.AMI, why), Fix: fmt.Sprintf("aws ecs update-container-agent --cluster %s --container-instance %s", in.Cluster, ci.ID())})
	case !im.IsAmazonLinux():
		add(Finding{Check: CheckAgentOS, Severity: Error, Subject: subject, Message: fmt.Sprintf("agent %s on %s (not Amazon Linux) needs >= %s for trunking", ci.AgentVersion, im.Name, inventory.MinAgentNonAmzn), Fix: fmt.Sprintf("install ECS agent >= %s (ecs-init package), or use an ECS-optimized Amazon Linux AMI; then replace the instance", inventory.MinAgentNonAmzn)})
	}
}

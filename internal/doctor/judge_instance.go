package doctor

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Remedy is what a replacement can do for an instance, machine-readable so
// `trunkctl rollout` replaces only what a replacement fixes.
type Remedy string

const (
	// RemedyNone: nothing to do.
	RemedyNone Remedy = "none"
	// RemedyReplace: drain and replace it; the replacement gets a trunk.
	RemedyReplace Remedy = "replace"
	// RemedyEnableThenReplace: enable its role (trunkctl enable --role), then replace it.
	RemedyEnableThenReplace Remedy = "enable-then-replace"
	// RemedyFixHost: the host's set-up (agent, ecs-init, ECS_ENABLE_TASK_ENI,
	// Bottlerocket version) is wrong; a replacement from the same set-up
	// would not trunk either.
	RemedyFixHost Remedy = "fix-host"
	// RemedyFixLaunch: how it is launched (launch template, instance type,
	// subnet) must change first; then replace it.
	RemedyFixLaunch Remedy = "fix-launch"
	// RemedyWait: ECS is still setting it up.
	RemedyWait Remedy = "wait"
	// RemedyNotApplicable: replacing does not help and trunkctl has no fix
	// (Windows, ECS Managed Instances, a cause it cannot see).
	RemedyNotApplicable Remedy = "not-applicable"
)

// Verdict codes beyond those of inventory.
const (
	VerdictManaged            VerdictCode = "managed-instance"
	VerdictHostCannotTrunk    VerdictCode = "host-cannot-trunk"
	VerdictRoleNotEnabled     VerdictCode = "role-not-enabled"
	VerdictRoleDefaultOnly    VerdictCode = "role-default-only"
	VerdictRegisteredBefore   VerdictCode = "registered-before-opt-in"
	VerdictNoTrunkAfterOptIn  VerdictCode = "no-trunk-after-opt-in"
	VerdictDNSARecord         VerdictCode = "dns-a-record"
	VerdictSharedSubnet       VerdictCode = "shared-subnet"
	VerdictLimitUnpublishedOK VerdictCode = "ok-limit-not-published"
	VerdictManagedNoTrunkType VerdictCode = "managed-type-cannot-trunk"
	VerdictRoleUnknownNoTrunk VerdictCode = "no-trunk-role-unknown"
	VerdictAgentTooOldForOS   VerdictCode = "agent-too-old-for-os"
)

// RoleFacts is what is known of an instance's role setting.
type RoleFacts struct {
	Arn string
	// Value is the effective awsvpcTrunking value ("enabled", "disabled"),
	// Source "principal" (the role's own setting) or "default" (the account's).
	Value, Source string
}

// OptIn is when a role's trunking was turned on, as far as it is known.
type OptIn struct {
	// At is the time of the CloudTrail event that enabled it (zero: no record).
	At time.Time
	// Event names the call and who made it, for the evidence.
	Event string
}

// Sibling is a trunked container instance with the same role registered
// later than the one judged: evidence that the role was enabled by then.
type Sibling struct {
	EC2InstanceID string
	RegisteredAt  time.Time
}

// InstanceFacts is everything the judge looks at for one container instance.
// The zero value of each optional part means "not known".
type InstanceFacts struct {
	Cluster string
	CI      inventory.ContainerInstance
	Host    inventory.HostAttributes
	Type    catalog.InstanceType
	// Instance is EC2's view; nil when it was not described.
	Instance *inventory.Instance
	Operator inventory.ManagedOperator
	// Provider is the capacity provider that launched it (nil: none or not known).
	Provider *inventory.CapacityProvider
	Role     *RoleFacts
	// UnreadRole is the instance's role ARN when its setting could not be
	// read (Role is nil then).
	UnreadRole string
	OptIn      OptIn
	// TrunkedLater is a sibling with the same role that registered later and got a trunk.
	TrunkedLater *Sibling
	// SubnetOwner is the owner of the instance's subnet when it is not AccountID.
	SubnetOwner, SubnetID, AccountID string
	// AmazonLinux is true/false when the OS is known (Bottlerocket
	// attribute, or the AMI), nil when not.
	AmazonLinux *bool
	AWSVPCTasks int
	// LaunchTemplate names the template (and version) that launched it,
	// for fixes; "" when unknown.
	LaunchTemplate string
}

func (f InstanceFacts) managed() bool {
	return (f.Provider != nil && f.Provider.Managed()) || (f.Operator.Managed && strings.HasPrefix(f.Operator.Principal, "ecs"))
}

// Drain is the commands that drain an instance and have its group replace it.
func Drain(cluster string, ci inventory.ContainerInstance) string {
	return fmt.Sprintf("aws ecs update-container-instances-state --cluster %s --container-instances %s --status DRAINING; then, once its tasks moved: aws autoscaling terminate-instance-in-auto-scaling-group --instance-id %s --no-should-decrement-desired-capacity (or trunkctl rollout --cluster %s)",
		cluster, ci.ID(), ci.EC2InstanceID, cluster)
}

// JudgeInstance decides the verdict on one container instance. It is the
// one place that does: `instances` shows it, `doctor` reports it, and
// `rollout` acts on its Remedy.
func JudgeInstance(f InstanceFacts) Verdict {
	ci, it := f.CI, f.Type
	ev := []string{fmt.Sprintf("container instance %s, status %s", ci.ID(), ci.Status)}
	if ci.TrunkENI != "" {
		ev = append(ev, inventory.AttrTrunkID+"="+ci.TrunkENI)
	} else {
		ev = append(ev, "no "+inventory.AttrTrunkID+" attribute")
	}
	v := func(code VerdictCode, sev Severity, healthy bool, remedy Remedy, msg, fix string, more ...string) Verdict {
		return Verdict{Code: code, Severity: sev, Healthy: healthy, Message: msg, Evidence: append(ev, more...), Fix: fix, Remedy: remedy}
	}
	registered := ""
	if !ci.RegisteredAt.IsZero() {
		registered = ci.RegisteredAt.UTC().Format(time.RFC3339)
		ev = append(ev, "registeredAt="+registered)
	}

	switch {
	case ci.Status == "REGISTRATION_FAILED":
		reason := ci.StatusReason
		if reason == "" {
			reason = "no reason given"
		}
		fix := "fix the reason ECS gives in the launch template or subnet, then launch a new instance: " + Drain(f.Cluster, ci)
		if f.SubnetOwner != "" || strings.Contains(strings.ToLower(reason), "network interface") {
			fix = fmt.Sprintf("ECS could not create the trunk ENI: launch in a subnet owned by account %s (not shared through RAM), with free addresses, and check the service-linked role (aws iam get-role --role-name AWSServiceRoleForECS); then: %s", f.AccountID, Drain(f.Cluster, ci))
		}
		return v(VerdictRegistrationFailed, Error, false, RemedyFixLaunch, "registration failed: "+reason, fix, "statusReason="+reason)
	case f.managed():
		who := "ECS Managed Instances"
		var more []string
		if f.Provider != nil {
			who += " (capacity provider " + f.Provider.Name + ")"
			more = append(more, "capacityProvider "+f.Provider.Name+" type "+f.Provider.Type)
		}
		if f.Operator.Managed {
			more = append(more, "EC2 operator managed by "+f.Operator.Principal)
		}
		switch {
		case ci.TrunkENI != "":
			return v(VerdictManaged, Info, true, RemedyNone, fmt.Sprintf("managed by %s; trunk %s (ECS attaches it without the account setting)", who, ci.TrunkENI), "", more...)
		case ci.Status == "REGISTERING":
			return v(VerdictManaged, Info, true, RemedyWait, "managed by "+who+"; registering", "", more...)
		case !it.Support.Trunks():
			return v(VerdictManagedNoTrunkType, Warning, false, RemedyNotApplicable,
				fmt.Sprintf("managed by %s; type %s does not trunk (%s), so its tasks get one ENI each", who, ci.InstanceType, it.Support),
				fmt.Sprintf("choose trunk-capable types in the capacity provider's instance requirements (%s); do not opt in or replace it: ECS manages it", providerCommand(f)), more...)
		default:
			return v(VerdictManaged, Warning, false, RemedyNotApplicable,
				fmt.Sprintf("managed by %s; type %s can trunk but ECS attached no trunk", who, ci.InstanceType),
				"ECS attaches the trunk of Managed Instances itself: opting in or replacing does not apply; if new instances also lack one, ask AWS Support with container instance "+ci.ID(), more...)
		}
	case strings.EqualFold(f.Host.OSType, "windows") || strings.EqualFold(ci.OSType, "windows"):
		return v(VerdictWindows, Error, false, RemedyNotApplicable, "Windows: ENI trunking is Linux only",
			"run awsvpc tasks that need trunking on Linux container instances", "ecs.os-type=windows")
	case ci.TrunkENI == "" && ci.Status == "REGISTERING":
		return v(VerdictRegistering, Info, true, RemedyWait, "registering: the trunk may still be provisioning", "")
	case ci.TrunkENI == "" && !f.Host.CanTrunk():
		return v(VerdictHostCannotTrunk, Error, false, RemedyFixHost,
			fmt.Sprintf("the agent cannot trunk: it does not report %s; opting in or replacing from the same set-up does not help", strings.Join(f.Host.Missing(), ", ")),
			hostFix(f), "missing attributes: "+strings.Join(f.Host.Missing(), ", "))
	case ci.AgentVersion != "" && CompareVersions(ci.AgentVersion, MinAgent) < 0:
		// Even with a trunk attribute: an agent this old cannot use it.
		return v(VerdictAgentTooOld, Error, false, RemedyFixHost,
			fmt.Sprintf("agent %s too old: trunking needs >= %s (>= %s off Amazon Linux)", ci.AgentVersion, MinAgent, MinAgentNonAmzn),
			agentFix(f), "versionInfo.agentVersion="+ci.AgentVersion)
	case ci.TrunkENI == "" && f.AmazonLinux != nil && !*f.AmazonLinux && ci.AgentVersion != "" && CompareVersions(ci.AgentVersion, MinAgentNonAmzn) < 0:
		return v(VerdictAgentTooOldForOS, Error, false, RemedyFixHost,
			fmt.Sprintf("agent %s is too old off Amazon Linux: trunking needs >= %s there", ci.AgentVersion, MinAgentNonAmzn),
			agentFix(f), "versionInfo.agentVersion="+ci.AgentVersion, osEvidence(f))
	case ci.TrunkENI != "":
		switch it.Support {
		case catalog.LimitUnpublished:
			return v(VerdictLimitUnpublishedOK, Info, true, RemedyNone,
				fmt.Sprintf("trunk %s; type %s supported, limit not published; %d awsvpc task(s) seen here", ci.TrunkENI, ci.InstanceType, f.AWSVPCTasks), "")
		case catalog.Supported:
			return v(VerdictOK, Info, true, RemedyNone, "trunk "+ci.TrunkENI, "")
		default:
			return v(VerdictOK, Info, true, RemedyNone, fmt.Sprintf("trunk %s; type %s: %s; %d awsvpc task(s) seen here", ci.TrunkENI, ci.InstanceType, it.Reason, f.AWSVPCTasks), "")
		}
	case it.Support == catalog.Unsupported:
		return v(VerdictUnsupportedType, Error, false, RemedyFixLaunch,
			fmt.Sprintf("type %s not supported: %s", ci.InstanceType, it.Reason),
			fmt.Sprintf("use a type that trunks in %s (trunkctl capacity --family %s lists sizes), then: %s", launchName(f), it.Family, Drain(f.Cluster, ci)), "ecs.instance-type="+ci.InstanceType)
	case f.Instance != nil && f.Instance.ResourceNameDNSARecord != nil && *f.Instance.ResourceNameDNSARecord:
		return v(VerdictDNSARecord, Error, false, RemedyFixLaunch,
			"resource-based IPv4 DNS A records are on; ECS gives such instances no trunk",
			fmt.Sprintf("set PrivateDnsNameOptions.EnableResourceNameDnsARecord=false in %s, then: %s", launchName(f), Drain(f.Cluster, ci)),
			"PrivateDnsNameOptions.EnableResourceNameDnsARecord=true on "+ci.EC2InstanceID)
	case f.SubnetOwner != "":
		return v(VerdictSharedSubnet, Error, false, RemedyFixLaunch,
			fmt.Sprintf("subnet %s is shared from account %s; ENI trunking does not support shared (RAM) subnets", f.SubnetID, f.SubnetOwner),
			fmt.Sprintf("launch container instances in subnets account %s owns (change %s), then: %s", f.AccountID, launchName(f), Drain(f.Cluster, ci)),
			fmt.Sprintf("subnet %s OwnerId=%s", f.SubnetID, f.SubnetOwner))
	case it.Support == catalog.Unknown:
		return v(VerdictUnknownType, Warning, false, RemedyFixLaunch,
			fmt.Sprintf("no trunk; type %s: %s", ci.InstanceType, it.Reason),
			fmt.Sprintf("use a type ECS lists as supported in %s (trunkctl capacity --family %s), then: %s", launchName(f), it.Family, Drain(f.Cluster, ci)), "ecs.instance-type="+ci.InstanceType)
	}
	return judgeRole(f, v, registered)
}

// judgeRole decides for a trunk-capable, well set-up instance without a
// trunk: the role's setting, and when it was enabled, explain why.
func judgeRole(f InstanceFacts, v func(VerdictCode, Severity, bool, Remedy, string, string, ...string) Verdict, registered string) Verdict {
	ci, r := f.CI, f.Role
	drain := Drain(f.Cluster, ci)
	if r == nil {
		if f.UnreadRole != "" {
			return v(VerdictRoleUnknownNoTrunk, Error, false, RemedyEnableThenReplace,
				fmt.Sprintf("no trunk; the setting of role %s could not be read, so why is not known", inventory.ResourceID(f.UnreadRole)),
				fmt.Sprintf("read it as a principal allowed to (the account root, the role, or one its trust policy allows): trunkctl status --role %s; if it is not enabled: trunkctl enable --role %s; then: %s", f.UnreadRole, f.UnreadRole, drain),
				"role "+f.UnreadRole+": setting not read")
		}
		return v(VerdictRoleUnknownNoTrunk, Error, false, RemedyEnableThenReplace,
			"no trunk; the instance's role could not be found (no instance profile, or EC2/IAM could not be read), so why is not known",
			fmt.Sprintf("find the instance profile of %s (aws ec2 describe-instances --instance-ids %s --query 'Reservations[].Instances[].IamInstanceProfile'), make sure its role is enabled (trunkctl enable --role ARN), then: %s", ci.EC2InstanceID, ci.EC2InstanceID, drain))
	}
	name := inventory.ResourceID(r.Arn)
	roleEv := fmt.Sprintf("role %s awsvpcTrunking=%s (source %s)", r.Arn, r.Value, r.Source)
	switch {
	case r.Value != "enabled":
		return v(VerdictRoleNotEnabled, Error, false, RemedyEnableThenReplace,
			fmt.Sprintf("no trunk: role %s is not opted in (awsvpcTrunking=%s)", name, r.Value),
			fmt.Sprintf("trunkctl enable --role %s; then: %s", r.Arn, drain), roleEv)
	case r.Source == "default":
		return v(VerdictRoleDefaultOnly, Error, false, RemedyEnableThenReplace,
			fmt.Sprintf("no trunk: role %s is enabled only through the account default, and its instances have no trunk", name),
			fmt.Sprintf("trunkctl enable --role %s first (the role's own setting); then: %s", r.Arn, drain), roleEv)
	}
	var when []string
	if !f.OptIn.At.IsZero() {
		when = append(when, fmt.Sprintf("opt-in at %s (%s)", f.OptIn.At.UTC().Format(time.RFC3339), f.OptIn.Event))
	}
	switch {
	case !f.OptIn.At.IsZero() && !ci.RegisteredAt.IsZero() && ci.RegisteredAt.Before(f.OptIn.At):
		return v(VerdictRegisteredBefore, Error, false, RemedyReplace,
			fmt.Sprintf("no trunk: registered at %s, before the opt-in of role %s (at %s); only a new instance gets a trunk", registered, name, f.OptIn.At.UTC().Format(time.RFC3339)),
			drain, append([]string{roleEv}, when...)...)
	case f.TrunkedLater != nil:
		return v(VerdictRegisteredBefore, Error, false, RemedyReplace,
			fmt.Sprintf("no trunk: registered at %s; %s with the same role registered at %s and got a trunk, so the opt-in came between", registered, f.TrunkedLater.EC2InstanceID, f.TrunkedLater.RegisteredAt.UTC().Format(time.RFC3339)),
			drain, roleEv, fmt.Sprintf("trunked sibling %s registeredAt=%s", f.TrunkedLater.EC2InstanceID, f.TrunkedLater.RegisteredAt.UTC().Format(time.RFC3339)))
	case !f.OptIn.At.IsZero() && !ci.RegisteredAt.IsZero():
		return v(VerdictNoTrunkAfterOptIn, Error, false, RemedyNotApplicable,
			fmt.Sprintf("no trunk although registered at %s, after the opt-in of role %s at %s: ECS could not create its trunk", registered, name, f.OptIn.At.UTC().Format(time.RFC3339)),
			fmt.Sprintf("check the service-linked role (aws iam get-role --role-name AWSServiceRoleForECS), free addresses in subnet %s and the agent log (/var/log/ecs/ecs-agent.log) on %s; replace it only once the cause is fixed: %s", f.SubnetID, ci.EC2InstanceID, drain),
			append([]string{roleEv}, when...)...)
	}
	return v(VerdictNoTrunk, Error, false, RemedyReplace,
		fmt.Sprintf("no trunk; role %s is enabled now (its own setting), and no record says when (no CloudTrail event in 90 days, no later trunked instance of the role): it most likely registered before the opt-in", name),
		drain, roleEv)
}

func hostFix(f InstanceFacts) string {
	ci := f.CI
	if f.Host.Bottlerocket != "" {
		return fmt.Sprintf("Bottlerocket %s on %s lacks the branch CNI plugin: update the host (apiclient update check && apiclient update apply --reboot) or launch from a current aws-ecs-2 Bottlerocket AMI; opting in or replacing from the same AMI does not help", f.Host.Bottlerocket, ci.EC2InstanceID)
	}
	return fmt.Sprintf("on %s, run the agent through ecs-init (not a bare container) with ECS_ENABLE_TASK_ENI=true in /etc/ecs/ecs.config (hostbootstrap sets both up: hostbootstrap --cluster %s), then restart it: sudo systemctl restart ecs; fix the launch template's user data the same way before replacing anything", ci.EC2InstanceID, f.Cluster)
}

func agentFix(f InstanceFacts) string {
	ci := f.CI
	return fmt.Sprintf("update the agent: aws ecs update-container-agent --cluster %s --container-instance %s (ECS-optimized AMIs), or install ecs-init >= %s on the host (hostbootstrap installs it); a replacement from the same AMI gets the same agent", f.Cluster, ci.ID(), MinAgentNonAmzn)
}

func osEvidence(f InstanceFacts) string {
	if f.Host.Bottlerocket != "" {
		return "bottlerocket.variant=" + f.Host.Bottlerocket
	}
	return "AMI " + f.CI.AMI + " is not Amazon Linux"
}

// providerCommand shows the managed capacity provider's configuration.
func providerCommand(f InstanceFacts) string {
	if f.Provider == nil {
		return "aws ecs describe-clusters --clusters " + f.Cluster + " --query 'clusters[].capacityProviders' lists the providers"
	}
	return "aws ecs describe-capacity-providers --capacity-providers " + f.Provider.Name
}

func launchName(f InstanceFacts) string {
	if f.LaunchTemplate != "" {
		return "launch template " + f.LaunchTemplate
	}
	return "the launch template of " + f.CI.EC2InstanceID + "'s Auto Scaling group"
}

// LatestOptIn returns, of the CloudTrail events, the last one that enabled
// the role (its own setting, set by ARN or by the role itself) at or before
// now, or of the account default when defaultToo; zero when none.
func LatestOptIn(events []inventory.OptInEvent, roleArn string) OptIn {
	var out OptIn
	sorted := append([]inventory.OptInEvent(nil), events...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Time.Before(sorted[j].Time) })
	for _, e := range sorted {
		if e.EventName != "PutAccountSetting" {
			continue
		}
		if e.PrincipalArn != roleArn && (e.PrincipalArn != "" || e.Caller != roleArn) {
			continue
		}
		if e.Value == "enabled" {
			// The last transition to enabled is the one that counts.
			out = OptIn{At: e.Time, Event: fmt.Sprintf("CloudTrail %s by %s", e.EventName, e.Caller)}
		}
	}
	return out
}

package doctor_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

const roleArn = "arn:aws:iam::123456789012:role/EcsInstanceRole"

var registered = time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)

// facts is a trunk-capable, well set-up c5.large without a trunk whose role
// is enabled by its own setting: each case changes one thing.
func facts(change func(*doctor.InstanceFacts)) doctor.InstanceFacts {
	f := doctor.InstanceFacts{
		Cluster: "prod", AccountID: "123456789012", SubnetID: "subnet-0a",
		CI: inventory.ContainerInstance{Arn: "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef",
			EC2InstanceID: "i-0abc", InstanceType: "c5.large", Status: "ACTIVE", AgentVersion: "1.90.0", OSType: "linux", RegisteredAt: registered},
		Host:     inventory.HostAttributes{TaskENI: true, Trunking: true, BranchCNI: "a21d3a41-", OSType: "linux"},
		Type:     catalog.Default().Lookup("c5.large"),
		Instance: &inventory.Instance{ID: "i-0abc", ResourceNameDNSARecord: aws.Bool(false)},
		Role:     &doctor.RoleFacts{Arn: roleArn, Value: "enabled", Source: "principal"},
	}
	if change != nil {
		change(&f)
	}
	return f
}

func TestJudgeInstanceGivesTheVerdictTheEvidenceAndTheFixThatWorks(t *testing.T) {
	tests := []struct {
		name    string
		f       doctor.InstanceFacts
		code    doctor.VerdictCode
		healthy bool
		remedy  doctor.Remedy
		// fix and msg must contain these (the real ids and commands).
		fix, msg []string
		// notFix must not appear in the fix.
		notFix []string
	}{
		{"a trunked instance is ok", facts(func(f *doctor.InstanceFacts) { f.CI.TrunkENI = "eni-0t" }),
			doctor.VerdictOK, true, doctor.RemedyNone, nil, []string{"eni-0t"}, nil},
		{"an agent without the task ENI capability is a host problem, never replace",
			facts(func(f *doctor.InstanceFacts) { f.Host.TaskENI = false }),
			doctor.VerdictHostCannotTrunk, false, doctor.RemedyFixHost, []string{"ECS_ENABLE_TASK_ENI=true", "ecs-init", "i-0abc", "hostbootstrap"}, []string{inventory.AttrTaskENI}, []string{"trunkctl enable"}},
		{"an old Bottlerocket without the branch plugin is told to update, not to opt in",
			facts(func(f *doctor.InstanceFacts) { f.Host.BranchCNI, f.Host.Bottlerocket = "", "aws-ecs-1" }),
			doctor.VerdictHostCannotTrunk, false, doctor.RemedyFixHost, []string{"apiclient update", "aws-ecs-1"}, []string{inventory.AttrBranchCNI}, []string{"trunkctl enable"}},
		{"an agent older than 1.28.1 is updated in place",
			facts(func(f *doctor.InstanceFacts) { f.CI.AgentVersion = "1.27.0" }),
			doctor.VerdictAgentTooOld, false, doctor.RemedyFixHost, []string{"aws ecs update-container-agent --cluster prod --container-instance 0123456789abcdef0123456789abcdef"}, []string{"1.27.0"}, nil},
		{"agent 1.28.1 on Bottlerocket needs 1.29.1",
			facts(func(f *doctor.InstanceFacts) {
				f.CI.AgentVersion = "1.28.1"
				f.Host.Bottlerocket = "aws-ecs-1"
				f.AmazonLinux = aws.Bool(false)
			}),
			doctor.VerdictAgentTooOldForOS, false, doctor.RemedyFixHost, []string{"1.29.1"}, []string{"1.28.1"}, nil},
		{"an ECS Managed Instance with a trunk is healthy and managed",
			facts(func(f *doctor.InstanceFacts) {
				f.CI.TrunkENI = "eni-0t"
				f.Provider = &inventory.CapacityProvider{Name: "mi-cp", Type: "MANAGED_INSTANCES"}
			}),
			doctor.VerdictManaged, true, doctor.RemedyNone, nil, []string{"mi-cp", "eni-0t"}, nil},
		{"an ECS Managed Instance without a trunk is never told to opt in or be replaced",
			facts(func(f *doctor.InstanceFacts) {
				f.Operator = inventory.ManagedOperator{Managed: true, Principal: "ecs.amazonaws.com"}
				f.Role = &doctor.RoleFacts{Arn: roleArn, Value: "disabled", Source: "default"}
			}),
			doctor.VerdictManaged, false, doctor.RemedyNotApplicable, []string{"0123456789abcdef0123456789abcdef"}, []string{"ECS Managed Instances"}, []string{"trunkctl enable", "terminate", "DRAINING"}},
		{"a role not opted in is enabled first, then the instance replaced",
			facts(func(f *doctor.InstanceFacts) { f.Role.Value, f.Role.Source = "disabled", "default" }),
			doctor.VerdictRoleNotEnabled, false, doctor.RemedyEnableThenReplace, []string{"trunkctl enable --role " + roleArn, "--container-instances 0123456789abcdef0123456789abcdef", "--instance-id i-0abc"}, []string{"awsvpcTrunking=disabled"}, nil},
		{"a role enabled only through the account default is an error with enable --role first",
			facts(func(f *doctor.InstanceFacts) { f.Role.Source = "default" }),
			doctor.VerdictRoleDefaultOnly, false, doctor.RemedyEnableThenReplace, []string{"trunkctl enable --role " + roleArn + " first"}, []string{"account default"}, nil},
		{"a CloudTrail opt-in after registration proves registered before the opt-in",
			facts(func(f *doctor.InstanceFacts) {
				f.OptIn = doctor.OptIn{At: registered.Add(24 * time.Hour), Event: "CloudTrail PutAccountSetting by arn:aws:iam::123456789012:role/Admin"}
			}),
			doctor.VerdictRegisteredBefore, false, doctor.RemedyReplace, []string{"i-0abc", "DRAINING"}, []string{"before the opt-in", "2026-02-02T10:00:00Z"}, []string{"trunkctl enable"}},
		{"a later trunked sibling of the same role proves registered before the opt-in",
			facts(func(f *doctor.InstanceFacts) {
				f.TrunkedLater = &doctor.Sibling{EC2InstanceID: "i-0later", RegisteredAt: registered.Add(time.Hour)}
			}),
			doctor.VerdictRegisteredBefore, false, doctor.RemedyReplace, []string{"i-0abc"}, []string{"i-0later"}, nil},
		{"an opt-in before registration means a replacement will not help by itself",
			facts(func(f *doctor.InstanceFacts) {
				f.OptIn = doctor.OptIn{At: registered.Add(-time.Hour), Event: "CloudTrail PutAccountSetting"}
			}),
			doctor.VerdictNoTrunkAfterOptIn, false, doctor.RemedyNotApplicable, []string{"AWSServiceRoleForECS", "subnet-0a"}, []string{"after the opt-in"}, nil},
		{"without evidence it says what is known and does not claim the opt-in time",
			facts(nil),
			doctor.VerdictNoTrunk, false, doctor.RemedyReplace, []string{"i-0abc"}, []string{"no record says when"}, nil},
		{"a trunked newer family is healthy with its limit unpublished",
			facts(func(f *doctor.InstanceFacts) {
				f.CI.TrunkENI, f.CI.InstanceType, f.Type, f.AWSVPCTasks = "eni-0t", "c7i.large", catalog.Default().Lookup("c7i.large"), 7
			}),
			doctor.VerdictLimitUnpublishedOK, true, doctor.RemedyNone, nil, []string{"supported, limit not published", "7 awsvpc task(s) seen here"}, nil},
		{"an untrunked newer family is judged by its role, not its type",
			facts(func(f *doctor.InstanceFacts) {
				f.CI.InstanceType, f.Type = "m7i.xlarge", catalog.Default().Lookup("m7i.xlarge")
				f.Role.Value = "disabled"
			}),
			doctor.VerdictRoleNotEnabled, false, doctor.RemedyEnableThenReplace, []string{"trunkctl enable --role"}, nil, nil},
		{"an unsupported type needs another type, not a plain replacement",
			facts(func(f *doctor.InstanceFacts) {
				f.CI.InstanceType, f.Type = "t3.large", catalog.Default().Lookup("t3.large")
			}),
			doctor.VerdictUnsupportedType, false, doctor.RemedyFixLaunch, []string{"trunkctl capacity --family t3"}, []string{"t3.large"}, nil},
		{"resource-name DNS A records on is fixed in the launch template",
			facts(func(f *doctor.InstanceFacts) {
				f.Instance.ResourceNameDNSARecord = aws.Bool(true)
				f.LaunchTemplate = "lt-0abc"
			}),
			doctor.VerdictDNSARecord, false, doctor.RemedyFixLaunch, []string{"EnableResourceNameDnsARecord=false in launch template lt-0abc"}, []string{"i-0abc"}, nil},
		{"a shared subnet is fixed by launching elsewhere",
			facts(func(f *doctor.InstanceFacts) { f.SubnetOwner = "999999999999" }),
			doctor.VerdictSharedSubnet, false, doctor.RemedyFixLaunch, []string{"account 123456789012"}, []string{"subnet-0a", "999999999999"}, nil},
		{"registration failure names ECS's reason",
			facts(func(f *doctor.InstanceFacts) {
				f.CI.Status, f.CI.StatusReason = "REGISTRATION_FAILED", "Unexpected EC2 error while attempting to Create Network Interface"
			}),
			doctor.VerdictRegistrationFailed, false, doctor.RemedyFixLaunch, []string{"not shared through RAM"}, []string{"Create Network Interface"}, nil},
		{"an unreadable role setting names the role and how to read it",
			facts(func(f *doctor.InstanceFacts) { f.Role, f.UnreadRole = nil, roleArn }),
			doctor.VerdictRoleUnknownNoTrunk, false, doctor.RemedyEnableThenReplace, []string{"trunkctl status --role " + roleArn, "trunkctl enable --role " + roleArn}, []string{"EcsInstanceRole"}, []string{"ROLE_ARN"}},
		{"a registering instance is waited for",
			facts(func(f *doctor.InstanceFacts) { f.CI.Status = "REGISTERING" }),
			doctor.VerdictRegistering, true, doctor.RemedyWait, nil, nil, nil},
		{"Windows is not applicable",
			facts(func(f *doctor.InstanceFacts) { f.CI.OSType, f.Host.OSType = "windows", "windows" }),
			doctor.VerdictWindows, false, doctor.RemedyNotApplicable, []string{"Linux"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := doctor.JudgeInstance(tt.f)
			if v.Code != tt.code || v.Healthy != tt.healthy || v.Remedy != tt.remedy {
				t.Fatalf("got %s healthy=%v remedy=%s (%s), want %s healthy=%v remedy=%s", v.Code, v.Healthy, v.Remedy, v.Message, tt.code, tt.healthy, tt.remedy)
			}
			if !v.Healthy && v.Severity == doctor.Info {
				t.Errorf("an unhealthy verdict has severity info")
			}
			if len(v.Evidence) == 0 {
				t.Errorf("no evidence")
			}
			for _, s := range tt.fix {
				if !strings.Contains(v.Fix, s) {
					t.Errorf("fix %q lacks %q", v.Fix, s)
				}
			}
			for _, s := range tt.notFix {
				if strings.Contains(v.Fix, s) {
					t.Errorf("fix %q must not say %q", v.Fix, s)
				}
			}
			all := v.Message + " " + strings.Join(v.Evidence, " ")
			for _, s := range tt.msg {
				if !strings.Contains(all, s) {
					t.Errorf("message/evidence %q lacks %q", all, s)
				}
			}
		})
	}
}

func TestLatestOptInIsTheLastEnableOfThatRole(t *testing.T) {
	t0 := registered
	evs := []inventory.OptInEvent{
		{EventName: "PutAccountSetting", Time: t0.Add(3 * time.Hour), PrincipalArn: "arn:aws:iam::123456789012:role/Other", Value: "enabled"},
		{EventName: "PutAccountSetting", Time: t0.Add(2 * time.Hour), PrincipalArn: roleArn, Value: "enabled", Caller: "arn:aws:iam::123456789012:role/Admin"},
		{EventName: "PutAccountSettingDefault", Time: t0.Add(4 * time.Hour), Value: "enabled"},
		{EventName: "PutAccountSetting", Time: t0.Add(time.Hour), Caller: roleArn, Value: "enabled"},
	}
	got := doctor.LatestOptIn(evs, roleArn)
	if !got.At.Equal(t0.Add(2*time.Hour)) || !strings.Contains(got.Event, "Admin") {
		t.Fatalf("got %+v", got)
	}
	if got := doctor.LatestOptIn(evs, "arn:aws:iam::123456789012:role/None"); !got.At.IsZero() {
		t.Fatalf("a role without events got %+v", got)
	}
}

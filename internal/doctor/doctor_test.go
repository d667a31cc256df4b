package doctor_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

var now = time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)

// healthy is a cluster with nothing wrong: one trunked instance, its role enabled.
func healthy() doctor.Input {
	return doctor.Input{
		AccountID: "123456789012", Now: now, StuckAfter: 5 * time.Minute, Catalog: catalog.Default(),
		Snapshot: inventory.Snapshot{
			Cluster: "prod",
			ContainerInstances: []inventory.ContainerInstance{{Arn: "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/abc", EC2InstanceID: "i-1",
				InstanceType: "c5.large", Status: "ACTIVE", AgentVersion: "1.90.0", OSType: "linux", AMI: "ami-1", TrunkENI: "eni-t1",
				Host: inventory.HostAttributes{TaskENI: true, Trunking: true, BranchCNI: "a21d3a41-", OSType: "linux", AMI: "ami-1"}}},
			Instances:     map[string]inventory.Instance{"i-1": {ID: "i-1", SubnetID: "subnet-1", ResourceNameDNSARecord: aws.Bool(false)}},
			InstanceRoles: map[string][]string{"i-1": {"arn:aws:iam::123456789012:role/EcsInstanceRole"}},
			Subnets:       map[string]inventory.Subnet{"subnet-1": {ID: "subnet-1", OwnerID: "123456789012"}},
		},
		Roles:             []accountsetting.RoleSetting{{RoleArn: "arn:aws:iam::123456789012:role/EcsInstanceRole", EffectiveValue: "enabled", Source: "principal"}},
		ServiceLinkedRole: aws.Bool(true),
	}
}

func findings(in doctor.Input, sev doctor.Severity) map[string]doctor.Finding {
	out := map[string]doctor.Finding{}
	for _, f := range doctor.Judge(in).Findings {
		if f.Severity == sev {
			out[f.Check] = f
		}
	}
	return out
}

func TestAHealthyClusterHasNoErrorsOrWarningsAndSaysOnceWhatCannotBeFixed(t *testing.T) {
	r := doctor.Judge(healthy())
	c := doctor.Count(r.Findings)
	if c[doctor.Error] != 0 || c[doctor.Warning] != 0 || c[doctor.Info] != 2 || r.Unhealthy() {
		t.Fatalf("findings = %+v", r.Findings)
	}
	f := findings(healthy(), doctor.Info)[doctor.CheckTrunkENIFixed]
	if !strings.Contains(f.Message, doctor.RoadmapTrunkSecurityGroup) || !strings.Contains(f.Message, doctor.RoadmapTrunkTags) || !strings.Contains(f.Message, "eni-t1") {
		t.Fatalf("trunk ENI finding = %+v", f)
	}
}

func TestEveryProblemIsAnErrorWithItsFix(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(*doctor.Input)
		check   string
		fixWant string
	}{
		{"a missing service-linked role", func(in *doctor.Input) { in.ServiceLinkedRole = aws.Bool(false) },
			doctor.CheckServiceLinked, "aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com"},
		{"a role that is not opted in", func(in *doctor.Input) { in.Roles[0].EffectiveValue = "disabled" },
			doctor.CheckRoleOptIn, "trunkctl enable --role arn:aws:iam::123456789012:role/EcsInstanceRole"},
		{"an instance without a trunk", func(in *doctor.Input) { in.Snapshot.ContainerInstances[0].TrunkENI = "" },
			doctor.CheckInstance, "--status DRAINING"},
		{"DNS A records on an instance without a trunk", func(in *doctor.Input) {
			in.Snapshot.ContainerInstances[0].TrunkENI = ""
			in.Snapshot.Instances["i-1"] = inventory.Instance{ID: "i-1", SubnetID: "subnet-1", ResourceNameDNSARecord: aws.Bool(true)}
		}, doctor.CheckInstance, "EnableResourceNameDnsARecord=false"},
		{"an instance without a trunk in a subnet shared from another account", func(in *doctor.Input) {
			in.Snapshot.ContainerInstances[0].TrunkENI = ""
			in.Snapshot.Subnets["subnet-1"] = inventory.Subnet{ID: "subnet-1", OwnerID: "999999999999"}
		},
			doctor.CheckInstance, "subnets account 123456789012 owns"},
		{"a task stuck in PROVISIONING", func(in *doctor.Input) {
			in.Snapshot.Tasks = []inventory.Task{{Arn: "arn:aws:ecs:us-east-1:123456789012:task/prod/t1", LastStatus: "PROVISIONING", CreatedAt: now.Add(-10 * time.Minute)}}
		}, doctor.CheckStuckProvisioning, "aws ecs stop-task --cluster prod --task t1"},
		{"agent 1.28.1 off Amazon Linux", func(in *doctor.Input) {
			in.Snapshot.ContainerInstances[0].AgentVersion = "1.28.1"
			in.Images = map[string]inventory.Image{"ami-1": {ID: "ami-1", Name: "ubuntu-jammy-22.04"}}
		}, doctor.CheckAgentOS, "1.29.1"},
		{"an agent too old anywhere", func(in *doctor.Input) {
			in.Snapshot.ContainerInstances[0].AgentVersion, in.Snapshot.ContainerInstances[0].TrunkENI = "1.20.0", ""
		},
			doctor.CheckInstance, "aws ecs update-container-agent --cluster prod --container-instance abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := healthy()
			tt.breakIt(&in)
			f, ok := findings(in, doctor.Error)[tt.check]
			if !ok {
				t.Fatalf("no error for %s in %+v", tt.check, doctor.Judge(in).Findings)
			}
			if !strings.Contains(f.Fix, tt.fixWant) || f.Message == "" || f.Subject == "" {
				t.Fatalf("finding = %+v, want a fix containing %q", f, tt.fixWant)
			}
		})
	}
}

func TestWhatCannotBeJudgedIsAWarningNotAnError(t *testing.T) {
	in := healthy()
	in.ServiceLinkedRole, in.ServiceLinkedErr = nil, errors.New("AccessDenied")
	in.Roles[0].Err = errors.New("cannot act as the role")
	in.Snapshot.ContainerInstances[0].AgentVersion = "1.28.5" // AMI not described
	in.Snapshot.Tasks = []inventory.Task{{Arn: "t2", LastStatus: "PROVISIONING", CreatedAt: now.Add(-time.Minute)}}
	ws := findings(in, doctor.Warning)
	for _, c := range []string{doctor.CheckServiceLinked, doctor.CheckRoleOptIn, doctor.CheckAgentOS} {
		if _, ok := ws[c]; !ok {
			t.Errorf("no warning for %s", c)
		}
	}
	if n := doctor.Count(doctor.Judge(in).Findings)[doctor.Error]; n != 0 {
		t.Fatalf("errors = %d, want 0 (a task PROVISIONING for a minute is not stuck)", n)
	}
}

func TestAFullInstanceIsAWarning(t *testing.T) {
	in := healthy()
	for i := 0; i < 10; i++ {
		in.Snapshot.Tasks = append(in.Snapshot.Tasks, inventory.Task{Arn: "t", ContainerInstanceArn: in.Snapshot.ContainerInstances[0].Arn, LastStatus: "RUNNING", ENIs: []inventory.TaskENI{{NetworkInterfaceID: "eni-b"}}})
	}
	if f, ok := findings(in, doctor.Warning)[doctor.CheckCapacity]; !ok || !strings.Contains(f.Message, "10 of 10") {
		t.Fatalf("findings = %+v", doctor.Judge(in).Findings)
	}
}

func TestFindingsAreSortedErrorsFirst(t *testing.T) {
	in := healthy()
	in.ServiceLinkedRole = aws.Bool(false)
	fs := doctor.Judge(in).Findings
	if fs[0].Severity != doctor.Error || fs[len(fs)-1].Severity != doctor.Info {
		t.Fatalf("order = %+v", fs)
	}
}

func TestTheJudgeGivesEachInstanceOneVerdictWithItsRoleAndFix(t *testing.T) {
	in := healthy()
	in.Snapshot.ContainerInstances[0].TrunkENI = ""
	in.Roles[0].EffectiveValue = "disabled"
	r := doctor.Judge(in)
	if len(r.Instances) != 1 {
		t.Fatalf("instances = %+v", r.Instances)
	}
	got := r.Instances[0]
	v := got.Verdict
	if v.Code != doctor.VerdictRoleNotEnabled || v.Healthy || v.Severity != doctor.Error || v.Remedy != doctor.RemedyEnableThenReplace || got.Role == nil || got.Role.Enabled {
		t.Fatalf("report = %+v", got)
	}
	if !strings.Contains(v.Fix, "trunkctl enable --role arn:aws:iam::123456789012:role/EcsInstanceRole; then: aws ecs update-container-instances-state") {
		t.Fatalf("fix = %q", v.Fix)
	}
	if f := findings(in, doctor.Error)[doctor.CheckInstance]; f.Message != v.Message || f.Fix != v.Fix {
		t.Fatalf("the finding %+v does not repeat the verdict %+v", f, v)
	}
	if got.Usage.Limit != 2 || len(v.Evidence) == 0 {
		t.Fatalf("usage %+v, evidence %v", got.Usage, v.Evidence)
	}
}

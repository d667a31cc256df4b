package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

// scenarioJSON is what the scenarios read of `instances -o json` and `doctor -o json`.
type scenarioJSON struct {
	Instances []struct {
		EC2InstanceID string `json:"ec2InstanceId"`
		Verdict       struct {
			Code     string   `json:"code"`
			Healthy  bool     `json:"healthy"`
			Fix      string   `json:"fix"`
			Message  string   `json:"message"`
			Evidence []string `json:"evidence"`
			Remedy   string   `json:"remedy"`
		} `json:"verdict"`
	} `json:"instances"`
	Findings []struct {
		Check    string `json:"check"`
		Severity string `json:"severity"`
		Subject  string `json:"subject"`
		Message  string `json:"message"`
		Fix      string `json:"fix"`
	} `json:"findings"`
}

// scenario is one row of docs/doctor.md: a world with one problem, the
// verdict of the instance it is about (or none), the finding doctor must
// make, what both commands exit with, and what the fix must (not) say.
type scenario struct {
	name  string
	build func(w *world)
	// instance is the EC2 instance whose verdict is asserted ("" for none).
	instance string
	code     string
	remedy   string
	// check and severity: a doctor finding that must be present.
	check, severity string
	// exit of both commands.
	exit ExitCode
	// fix must contain each of these (the instance's verdict fix, or the finding's).
	fix    []string
	notFix []string
}

var (
	ec2ID = inventorytest.InstanceID
	// ciID is the container instance id of instance n.
	ciID = func(n int) string {
		return inventory.ResourceID((&inventorytest.Cluster{Name: "prod", Region: "us-east-1", AccountID: "123456789012"}).ContainerInstanceArn(n))
	}
)

// scenarioWorld is healthyWorld: two trunked instances (1 and 2) whose role
// is enabled by its own setting; each scenario adds one problem.
func scenarioWorld(t *testing.T) *world { return healthyWorld(t) }

// doctorScenarios are the rows of docs/doctor.md, one problem each.
func doctorScenarios() []scenario {
	at := func(h int) time.Time { return inventorytest.Epoch().Add(time.Duration(h) * time.Hour) }
	return []scenario{
		{name: "an instance registered before the CloudTrail opt-in is replaced, with the opt-in time",
			build: func(w *world) {
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3})
				w.cluster.AddOptInEvent("PutAccountSetting", at(2), roleArn, "arn:aws:iam::123456789012:role/Admin", "enabled")
			},
			instance: ec2ID(3), code: "registered-before-opt-in", remedy: "replace", check: "instance", severity: "error", exit: ExitUnhealthy,
			fix: []string{"--container-instances " + ciID(3), "--instance-id " + ec2ID(3)}, notFix: []string{"trunkctl enable"}},
		{name: "a later trunked sibling proves an instance registered before the opt-in",
			build: func(w *world) {
				// Instance 3 registers at Epoch+3min, after 1 and 2 (Epoch+1, +2 min), without a trunk;
				// instance 4, same role, registers later and has one.
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3})
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 4, Trunk: true})
			},
			instance: ec2ID(3), code: "registered-before-opt-in", remedy: "replace", check: "instance", severity: "error", exit: ExitUnhealthy,
			fix: []string{ciID(3)}},
		{name: "without evidence the verdict says what is known, not when the opt-in was",
			build: func(w *world) {
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3})
				w.cluster.SetRegisteredAt(1, inventorytest.Epoch().Add(-time.Hour)) // the trunked one registered earlier
			},
			instance: ec2ID(3), code: "no-trunk", remedy: "replace", check: "instance", severity: "error", exit: ExitUnhealthy,
			fix: []string{ciID(3)}},
		{name: "a role enabled only through the account default is an error, enable --role first",
			build: func(w *world) {
				w.acct = w.acctWith(func(a *accountsettingDefault) { a.defaultOnly = true })
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3})
			},
			instance: ec2ID(3), code: "role-default-only", remedy: "enable-then-replace", check: "role-opt-in", severity: "error", exit: ExitUnhealthy,
			fix: []string{"trunkctl enable --role " + roleArn + " first"}},
		{name: "a role not opted in is enabled, then its instances replaced",
			build: func(w *world) {
				w.acct = w.acctWith(func(a *accountsettingDefault) { a.disabled = true })
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3})
			},
			instance: ec2ID(3), code: "role-not-enabled", remedy: "enable-then-replace", check: "role-opt-in", severity: "error", exit: ExitUnhealthy,
			fix: []string{"trunkctl enable --role " + roleArn, ciID(3)}},
		{name: "an agent older than 1.29.1 off Amazon Linux is updated, not replaced",
			build: func(w *world) {
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3, Agent: "1.28.5", AMI: "ami-0ubuntu"})
				w.cluster.Images["ami-0ubuntu"] = ec2types.Image{ImageId: aws.String("ami-0ubuntu"), Name: aws.String("ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20260301")}
			},
			instance: ec2ID(3), code: "agent-too-old-for-os", remedy: "fix-host", check: "instance", severity: "error", exit: ExitUnhealthy,
			fix: []string{"aws ecs update-container-agent --cluster prod --container-instance " + ciID(3)}, notFix: []string{"trunkctl enable"}},
		{name: "an agent without the task ENI capability is fixed on the host, never replaced",
			build: func(w *world) {
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3})
				w.cluster.RemoveAttributes(3, inventory.AttrTaskENI, inventory.AttrTrunkCapable, inventory.AttrBranchCNI)
			},
			instance: ec2ID(3), code: "host-cannot-trunk", remedy: "fix-host", check: "instance", severity: "error", exit: ExitUnhealthy,
			fix: []string{"ECS_ENABLE_TASK_ENI=true", "ecs-init", ec2ID(3)}, notFix: []string{"trunkctl enable", "terminate-instance"}},
		{name: "an old Bottlerocket without the branch plugin is updated, not replaced",
			build: func(w *world) {
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3})
				w.cluster.RemoveAttributes(3, inventory.AttrBranchCNI)
				w.cluster.SetAttribute(3, inventory.AttrBottlerocket, aws.String("aws-ecs-1"))
			},
			instance: ec2ID(3), code: "host-cannot-trunk", remedy: "fix-host", check: "instance", severity: "error", exit: ExitUnhealthy,
			fix: []string{"apiclient update", ec2ID(3)}, notFix: []string{"trunkctl enable", "terminate-instance"}},
		{name: "a shared subnet fails registration and the group's subnet is named",
			build: func(w *world) {
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3, Subnet: "subnet-0shared", Status: "REGISTRATION_FAILED",
					StatusReason: "Unexpected EC2 error while attempting to Create Network Interface with public IP assignment ENABLED in subnet 'subnet-0shared'"})
				w.cluster.Subnets["subnet-0shared"] = ec2types.Subnet{SubnetId: aws.String("subnet-0shared"), OwnerId: aws.String("999999999999"), VpcId: aws.String("vpc-0a")}
				w.withGroup(nil, []string{"subnet-0a", "subnet-0shared"}, 1, 3)
			},
			instance: ec2ID(3), code: "registration-failed", remedy: "fix-launch", check: "next-instance", severity: "error", exit: ExitUnhealthy,
			fix: []string{"not shared through RAM", "123456789012"}},
		{name: "an unsupported type needs another type",
			build:    func(w *world) { w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3, Type: "t4g.large"}) },
			instance: ec2ID(3), code: "unsupported-type", remedy: "fix-launch", check: "instance", severity: "error", exit: ExitUnhealthy,
			fix: []string{"trunkctl capacity --family t4g", ciID(3)}},
		{name: "a mixed group with t3 overrides warns before launching them",
			build: func(w *world) {
				w.withGroup([]string{"c5.large", "t3.large"}, []string{"subnet-0a"}, 1)
			},
			check: "next-instance", severity: "warning", exit: ExitOK,
			fix: []string{`remove t3.large from group prod-asg's instance types: aws autoscaling update-auto-scaling-group --auto-scaling-group-name prod-asg --mixed-instances-policy '{"LaunchTemplate":{"LaunchTemplateSpecification":{"LaunchTemplateId":"lt-0prod"},"Overrides":[{"InstanceType":"c5.large"}]}}'`}},
		{name: "a group whose launch template names an unsupported type is told a similar size that trunks",
			build: func(w *world) {
				w.withGroup(nil, []string{"subnet-0a"}, 1)
				w.cluster.AddLaunchTemplate("lt-0prod", "prod", inventorytest.TemplateVersion{InstanceType: "t3.xlarge", DNSARecord: aws.Bool(false), Default: true})
			},
			check: "next-instance", severity: "error", exit: ExitUnhealthy,
			fix: []string{`--launch-template-id lt-0prod --source-version 1 --launch-template-data '{"InstanceType":"m5.xlarge"}'`}},
		{name: "a Windows instance is not applicable",
			build:    func(w *world) { w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3, OSType: "windows"}) },
			instance: ec2ID(3), code: "windows", remedy: "not-applicable", check: "instance", severity: "error", exit: ExitUnhealthy,
			fix: []string{"Linux"}},
		{name: "an ECS Managed Instance with a trunk is healthy and never told to opt in",
			build: func(w *world) {
				w.cluster.AddCapacityProvider("mi-cp", "")
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3, Trunk: true})
				w.cluster.MakeManaged(3, "mi-cp")
			},
			instance: ec2ID(3), code: "managed-instance", remedy: "none", check: "managed-instances", severity: "info", exit: ExitOK,
			notFix: []string{"trunkctl enable", "DRAINING"}},
		{name: "an ECS Managed Instance without a trunk is not told to opt in or be replaced",
			build: func(w *world) {
				w.cluster.AddCapacityProvider("mi-cp", "")
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3})
				w.cluster.MakeManaged(3, "mi-cp")
			},
			instance: ec2ID(3), code: "managed-instance", remedy: "not-applicable", check: "instance", severity: "warning", exit: ExitUnhealthy,
			fix: []string{ciID(3)}, notFix: []string{"trunkctl enable", "terminate-instance", "DRAINING"}},
		{name: "a trunked newer family is healthy, limit not published",
			build: func(w *world) {
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3, Type: "c7i.large", Trunk: true})
				w.cluster.AddTask(inventorytest.TaskSpec{N: 30, Instance: 3, AWSVPC: true})
			},
			instance: ec2ID(3), code: "ok-limit-not-published", remedy: "none", check: "trunk-eni-security-group-and-tags", severity: "info", exit: ExitOK},
		{name: "a task stuck in PROVISIONING names its attachment and the instance without a trunk",
			build: func(w *world) {
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3})
				w.cluster.AddTask(inventorytest.TaskSpec{N: 30, Instance: 3, AWSVPC: true, Status: "PROVISIONING", Created: testNow().Add(-20 * time.Minute)})
			},
			check: "task-stuck-provisioning", severity: "error", exit: ExitUnhealthy,
			fix: []string{ec2ID(3) + " has no trunk", "aws ecs stop-task --cluster prod --task " + inventory.ResourceID((&inventorytest.Cluster{Name: "prod", Region: "us-east-1", AccountID: "123456789012"}).TaskArn(30))}},
		{name: "a RESOURCE:ENI service event names the service and the untrunked instance",
			build: func(w *world) {
				w.cluster.AddInstance(inventorytest.InstanceSpec{N: 3})
				w.cluster.AddServiceEvent("web", testNow().Add(-5*time.Minute), w.cluster.ENIPlacementFailure("web", 3))
			},
			check: "service-eni-placement", severity: "warning", exit: ExitUnhealthy,
			fix: []string{ec2ID(3) + " has no trunk"}},
		{name: "stopped tasks with AssociationLimitExceeded are counted per instance",
			build: func(w *world) {
				for i := 40; i < 43; i++ {
					w.cluster.AddStoppedTask(i, 1, "web", "ResourceInitializationError: failed to associate branch interface to trunk interface: AssociationLimitExceeded", testNow().Add(-10*time.Minute))
				}
			},
			check: "stopped-task-eni", severity: "warning", exit: ExitOK,
			fix: []string{"branch ENIs are used up"}},
		{name: "a launch template with DNS A records on is fixed before the next instance",
			build: func(w *world) {
				w.withGroup(nil, []string{"subnet-0a"}, 1)
				w.cluster.AddLaunchTemplate("lt-0prod", "prod", inventorytest.TemplateVersion{InstanceType: "c5.large", DNSARecord: aws.Bool(true), Default: true})
			},
			check: "next-instance", severity: "error", exit: ExitUnhealthy,
			fix: []string{"aws ec2 create-launch-template-version --launch-template-id lt-0prod --source-version 1", "prod-asg"}},
		{name: "a missing service-linked role is created",
			build: func(w *world) { delete(w.cluster.Roles, "AWSServiceRoleForECS") },
			check: "service-linked-role", severity: "error", exit: ExitUnhealthy,
			fix: []string{"aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com"}},
		{name: "a healthy cluster exits 0 in both commands and says once what cannot be fixed",
			build:    func(*world) {},
			instance: ec2ID(1), code: "ok", remedy: "none", check: "trunk-eni-security-group-and-tags", severity: "info", exit: ExitOK},
	}
}

func TestDoctorScenarios(t *testing.T) {
	scenarios := doctorScenarios()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			w := scenarioWorld(t)
			sc.build(w)
			codeI, outI, errI := runCmd(t, w, false, "instances", "--cluster", "prod", "-o", "json")
			codeD, outD, errD := runCmd(t, w, false, "doctor", "--cluster", "prod", "-o", "json")
			if codeI != sc.exit || codeD != sc.exit {
				t.Fatalf("instances exited %d, doctor %d, want %d for both\ninstances: %s%s\ndoctor: %s%s", codeI, codeD, sc.exit, outI, errI, outD, errD)
			}
			var inst, doc scenarioJSON
			if err := json.Unmarshal([]byte(outI), &inst); err != nil {
				t.Fatalf("instances JSON: %v\n%s", err, outI)
			}
			if err := json.Unmarshal([]byte(outD), &doc); err != nil {
				t.Fatalf("doctor JSON: %v\n%s", err, outD)
			}
			var fixes []string
			if sc.instance != "" {
				found := false
				for _, r := range inst.Instances {
					if r.EC2InstanceID != sc.instance {
						continue
					}
					found = true
					if r.Verdict.Code != sc.code || r.Verdict.Remedy != sc.remedy {
						t.Fatalf("%s: verdict %s remedy %s (%s), want %s remedy %s", sc.instance, r.Verdict.Code, r.Verdict.Remedy, r.Verdict.Message, sc.code, sc.remedy)
					}
					if len(r.Verdict.Evidence) == 0 {
						t.Errorf("%s: verdict without evidence", sc.instance)
					}
					fixes = append(fixes, r.Verdict.Fix)
				}
				if !found {
					t.Fatalf("no instance %s in %s", sc.instance, outI)
				}
			}
			found := false
			for _, f := range doc.Findings {
				if f.Check == sc.check && f.Severity == sc.severity {
					found = true
					fixes = append(fixes, f.Fix)
				}
			}
			if !found {
				t.Fatalf("no %s finding of check %s in\n%s", sc.severity, sc.check, outD)
			}
			all := strings.Join(fixes, "\n")
			for _, s := range sc.fix {
				if !strings.Contains(all, s) {
					t.Errorf("fixes lack %q:\n%s", s, all)
				}
			}
			for _, s := range sc.notFix {
				if strings.Contains(all, s) {
					t.Errorf("fixes must not say %q:\n%s", s, all)
				}
			}
			if strings.Contains(all, "ROLE_ARN") || strings.Contains(all, "INSTANCE_ID") {
				t.Errorf("a fix names a placeholder where the id is known:\n%s", all)
			}
			once := 0
			for _, f := range doc.Findings {
				if f.Check == "trunk-eni-security-group-and-tags" {
					once++
				}
			}
			if once > 1 {
				t.Errorf("the trunk ENI's security group and tags are said %d times", once)
			}
		})
	}
}

// accountsettingDefault shapes the account setting of EcsInstanceRole.
type accountsettingDefault struct{ defaultOnly, disabled bool }

// acctWith rebuilds the account: by default the role is enabled by its own setting.
func (w *world) acctWith(f func(*accountsettingDefault)) *accountsettingtest.Account {
	var d accountsettingDefault
	f(&d)
	a := accountsettingtest.New()
	a.AddRole("EcsInstanceRole", accountsettingtest.RoleState{})
	switch {
	case d.defaultOnly:
		a.SetDefault(accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	case d.disabled:
		a.SetExplicit(roleArn, accountsetting.AWSVPCTrunking, accountsetting.Disabled)
	default:
		a.SetExplicit(roleArn, accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	}
	return a
}

// withGroup adds capacity provider prod-cp with group prod-asg launching from
// template lt-0prod (c5.large, DNS A records off, unless a test adds it again),
// with mixed instances types, subnets, and instances.
func (w *world) withGroup(types, subnets []string, instances ...int) {
	const name, lt = "prod-asg", "lt-0prod"
	w.cluster.AddCapacityProvider("prod-cp", name)
	w.cluster.AddAutoScalingGroup(inventorytest.ASGSpec{Name: name, Template: lt, MixedTypes: types, Subnets: subnets, Instances: instances})
	w.cluster.AddLaunchTemplate(lt, "prod", inventorytest.TemplateVersion{InstanceType: "c5.large", DNSARecord: aws.Bool(false), Default: true})
	for _, n := range instances {
		w.cluster.UseCapacityProvider(n, "prod-cp")
	}
}

package doctor_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

const asgArn = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0f1e:autoScalingGroupName/prod-asg"

func TestASignalThatCouldNotBeReadIsAWarningThatSaysWhatToAllow(t *testing.T) {
	denied := errors.New("AccessDenied")
	provider := map[string]inventory.CapacityProvider{"prod-cp": {Name: "prod-cp", Type: "EC2_AUTOSCALING", AutoScalingGroupArn: asgArn}}
	tests := []struct {
		name  string
		set   inventory.SignalSet
		check string
		fix   string
	}{
		{"capacity providers", inventory.SignalSet{ProvidersErr: denied}, doctor.CheckNextInstance, "ecs:DescribeCapacityProviders"},
		{"Auto Scaling groups", inventory.SignalSet{Providers: provider, GroupsErr: denied}, doctor.CheckNextInstance, "autoscaling:DescribeAutoScalingGroups"},
		{"launch templates", inventory.SignalSet{Providers: provider,
			Groups:       map[string]inventory.AutoScalingGroup{"prod-asg": {Name: "prod-asg", LaunchTemplate: &inventory.LaunchTemplateRef{ID: "lt-0prod"}}},
			TemplatesErr: denied}, doctor.CheckNextInstance, "ec2:DescribeLaunchTemplateVersions"},
		{"services' events", inventory.SignalSet{ServiceEventErr: denied}, doctor.CheckServiceEvents, "ecs:DescribeServices"},
		{"stopped tasks", inventory.SignalSet{StoppedErr: denied}, doctor.CheckStoppedTasks, "ecs:ListTasks"},
		{"CloudTrail", inventory.SignalSet{OptInRead: true, OptInErr: denied}, doctor.CheckOptInRecord, "cloudtrail:LookupEvents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := healthy()
			in.Signals = tt.set
			r := doctor.Judge(in)
			f, ok := findings(in, doctor.Warning)[tt.check]
			if !ok || !strings.Contains(f.Fix, tt.fix) || !strings.Contains(f.Message, "AccessDenied") {
				t.Fatalf("findings = %+v", r.Findings)
			}
			if r.Unhealthy() {
				t.Fatalf("a signal that could not be read made the cluster unhealthy: %+v", r.Findings)
			}
		})
	}
}

func TestAGroupThatIsGoneOrUsesALaunchConfigurationIsSaidSo(t *testing.T) {
	in := healthy()
	in.Signals = inventory.SignalSet{Providers: map[string]inventory.CapacityProvider{"prod-cp": {Name: "prod-cp", Type: "EC2_AUTOSCALING", AutoScalingGroupArn: asgArn}}}
	if f := findings(in, doctor.Warning)[doctor.CheckNextInstance]; !strings.Contains(f.Message, "does not exist") || !strings.Contains(f.Fix, "--capacity-providers prod-cp") {
		t.Fatalf("missing group: %+v", f)
	}
	in.Signals.Groups = map[string]inventory.AutoScalingGroup{"prod-asg": {Name: "prod-asg", LaunchConfigurationName: "old-lc"}}
	if f := findings(in, doctor.Info)[doctor.CheckNextInstance]; !strings.Contains(f.Message, "launch configuration old-lc") {
		t.Fatalf("launch configuration: %+v", doctor.Judge(in).Findings)
	}
}

func TestCloudTrailIsWorthReadingOnlyForAnUntrunkedInstanceOfAnExplicitlyEnabledRole(t *testing.T) {
	in := healthy()
	if doctor.NeedsOptInRecord(in) {
		t.Fatal("every instance has a trunk, yet CloudTrail is asked")
	}
	in.Snapshot.ContainerInstances[0].TrunkENI = ""
	if !doctor.NeedsOptInRecord(in) {
		t.Fatal("an untrunked instance of an explicitly enabled role, yet CloudTrail is not asked")
	}
	in.Roles[0].Source = "default"
	if doctor.NeedsOptInRecord(in) {
		t.Fatal("the role is enabled only by default (an error either way), yet CloudTrail is asked")
	}
}

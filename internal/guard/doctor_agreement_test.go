package guard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/trunkctl/trunkctl/cli"
	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/guard"
	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

// doctorErrors runs `trunkctl doctor --cluster prod -o json` on the world
// and returns its error findings as check|severity|subject|message|fix.
func doctorErrors(t *testing.T, w *world) []string {
	t.Helper()
	c := w.prod()
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	deps := cli.Deps{
		IO: &cli.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut, NoColor: true},
		AWS: func(context.Context, cli.GlobalOptions, io.Writer) (*cli.AWS, error) {
			return &cli.AWS{Region: "us-east-1", ECS: c.ECS(), EC2: c.EC2(), IAM: c.IAM(),
				STS: w.acct.STSAs(adminCaller), Settings: w.acct.ECSAs(adminCaller), NewECS: w.acct.ECSFactory(),
				AutoScaling: c.AutoScaling(), CloudTrail: c.CloudTrail()}, nil
		},
		Catalog: catalog.Default(),
		Now:     func() time.Time { return w.now },
	}
	code := cli.Run(context.Background(), []string{"doctor", "--cluster", "prod", "-o", "json"}, deps)
	if code != cli.ExitOK && code != cli.ExitUnhealthy {
		t.Fatalf("doctor exit %d: %s", code, errOut)
	}
	var rep struct {
		Findings []guard.NotifiedFinding `json:"findings"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("doctor JSON: %v\n%s", err, out)
	}
	var got []string
	for _, f := range rep.Findings {
		if f.Severity == "error" {
			got = append(got, strings.Join([]string{f.Check, f.Severity, f.Subject, f.Message, f.Fix}, "|"))
		}
	}
	return got
}

func TestGuardFindingsEqualDoctorErrorFindings(t *testing.T) {
	worlds := []struct {
		name  string
		build func(w *world)
	}{
		{name: "a healthy cluster has none in both", build: func(*world) {}},
		{name: "an instance registered before the opt-in", build: func(w *world) {
			w.prod().AddInstance(inventorytest.InstanceSpec{N: 3})
			w.prod().AddOptInEvent("PutAccountSetting", inventorytest.Epoch().Add(2*time.Hour), roleArn, "arn:aws:iam::123456789012:role/Admin", "enabled")
		}},
		{name: "a role not opted in", build: func(w *world) {
			w.acct.SetExplicit(roleArn, accountsetting.AWSVPCTrunking, accountsetting.Disabled)
			w.prod().AddInstance(inventorytest.InstanceSpec{N: 3})
		}},
		{name: "many problems at once", build: func(w *world) {
			c := w.prod()
			c.AddInstance(inventorytest.InstanceSpec{N: 3, Type: "c5n.large"})
			c.AddInstance(inventorytest.InstanceSpec{N: 4, Agent: "1.27.0", Type: "m5.large"})
			c.AddInstance(inventorytest.InstanceSpec{N: 5, Status: "REGISTRATION_FAILED", StatusReason: "Unexpected EC2 error while attempting to Create Network Interface in subnet 'subnet-0shared'"})
			c.AddInstance(inventorytest.InstanceSpec{N: 6, Type: "t4g.large"})
			c.AddInstance(inventorytest.InstanceSpec{N: 7, DNSARecord: true})
			c.AddInstance(inventorytest.InstanceSpec{N: 8, OSType: "windows"})
			c.AddInstance(inventorytest.InstanceSpec{N: 9})
			c.RemoveAttributes(9, inventory.AttrTaskENI, inventory.AttrTrunkCapable, inventory.AttrBranchCNI)
			c.AddInstance(inventorytest.InstanceSpec{N: 10, Subnet: "subnet-0shared"})
			c.Subnets["subnet-0shared"] = ec2types.Subnet{SubnetId: aws.String("subnet-0shared"), OwnerId: aws.String("999999999999"), VpcId: aws.String("vpc-0a")}
			c.AddTask(inventorytest.TaskSpec{N: 30, Instance: 3, AWSVPC: true, Status: "PROVISIONING", Created: w.now.Add(-20 * time.Minute)})
			c.AddServiceEvent("web", w.now.Add(-5*time.Minute), c.ENIPlacementFailure("web", 3))
			c.AddCapacityProvider("prod-cp", "prod-asg")
			c.AddAutoScalingGroup(inventorytest.ASGSpec{Name: "prod-asg", Template: "lt-0prod", Subnets: []string{"subnet-0a"}, Instances: []int{1}})
			c.AddLaunchTemplate("lt-0prod", "prod", inventorytest.TemplateVersion{InstanceType: "t3.xlarge", DNSARecord: aws.Bool(false), Default: true})
			delete(c.Roles, "AWSServiceRoleForECS")
		}},
	}
	for _, tc := range worlds {
		t.Run(tc.name, func(t *testing.T) {
			w := healthyWorld()
			tc.build(w)
			want := doctorErrors(t, w)
			g := w.guard(guard.Config{TopicArn: topicArn})
			res, err := g.SweepResults(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res[0].Findings {
				got = append(got, strings.Join([]string{f.Check, string(f.Severity), f.Subject, f.Message, f.Fix}, "|"))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("guard findings:\n%s\ndoctor's error findings:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			pubs := w.sns.published()
			if len(want) == 0 {
				if len(pubs) != 0 {
					t.Errorf("a healthy cluster was notified")
				}
				return
			}
			if len(pubs) != 1 {
				t.Fatalf("%d publishes", len(pubs))
			}
			var notified []string
			for _, f := range message(t, pubs[0]).Findings {
				notified = append(notified, strings.Join([]string{f.Check, f.Severity, f.Subject, f.Message, f.Fix}, "|"))
			}
			if strings.Join(notified, "\n") != strings.Join(want, "\n") {
				t.Errorf("notified findings differ from doctor's:\n%s", strings.Join(notified, "\n"))
			}
			t.Logf("%d error findings agree: %s", len(want), checksOf(want))
		})
	}
}

// checksOf lists the check and subject of each finding, for the log.
func checksOf(fs []string) string {
	var out []string
	for _, f := range fs {
		p := strings.SplitN(f, "|", 4)
		out = append(out, p[0]+" "+p[2])
	}
	return strings.Join(out, ", ")
}

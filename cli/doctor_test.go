package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

func doctorOptsFor(w *world, s *IOStreams, output string) *doctorOpts {
	return &doctorOpts{cluster: "prod", stuckAfter: 5 * time.Minute, env: w.env(s, output)}
}

func TestDoctorFindsEveryProblemWithItsFixAndExitsThree(t *testing.T) {
	w := newWorld(t)
	delete(w.cluster.Roles, "AWSServiceRoleForECS")
	w.cluster.AddInstance(inventorytest.InstanceSpec{N: 7, DNSARecord: true, Subnet: "subnet-0shared", Agent: "1.28.1", AMI: "ami-0ubuntu"})
	w.cluster.Subnets["subnet-0shared"] = w.cluster.Subnets["subnet-0a"]
	sh := w.cluster.Subnets["subnet-0shared"]
	sh.SubnetId, sh.OwnerId = strPtr("subnet-0shared"), strPtr("999999999999")
	w.cluster.Subnets["subnet-0shared"] = sh
	im := w.cluster.Images["ami-0ubuntu"]
	im.Name = strPtr("ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server")
	w.cluster.Images["ami-0ubuntu"] = im
	w.cluster.AddTask(inventorytest.TaskSpec{N: 9, Instance: 1, AWSVPC: true, Status: "PROVISIONING", Created: testNow().Add(-20 * time.Minute)})
	s, out, _ := streams(false)
	err := run(context.Background(), doctorOptsFor(w, s, outputJSON))
	if ExitCodeOf(err) != ExitUnhealthy {
		t.Fatalf("exit = %d (%v)", ExitCodeOf(err), err)
	}
	golden(t, "doctor.golden.json", out.Bytes())
	// Instance 7's verdict is its agent (too old off Amazon Linux); its DNS A
	// records and shared subnet are findings of their own.
	if !strings.Contains(out.String(), `"code": "agent-too-old-for-os"`) {
		t.Errorf("instance 7 is not judged agent-too-old-for-os")
	}
	for _, check := range []string{"service-linked-role", "role-opt-in", "instance", "resource-name-dns-a-record", "shared-subnet", "task-stuck-provisioning"} {
		if !strings.Contains(out.String(), `"check": "`+check+`",
      "severity": "error"`) {
			t.Errorf("no error finding for %s", check)
		}
	}
}

func TestDoctorOfAHealthyClusterExitsZero(t *testing.T) {
	w := healthyWorld(t)
	s, out, errOut := streams(false)
	if err := run(context.Background(), doctorOptsFor(w, s, outputTable)); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(out.String(), "info\tsummary\tprod\t2 container instance(s), 2 with a trunk ENI, 2 awsvpc task(s)\t-") {
		t.Fatalf("stdout = %q", out)
	}
	if !strings.Contains(errOut.String(), "0 error(s), 0 warning(s)") {
		t.Fatalf("stderr = %q", errOut)
	}
	if w.cluster.Calls()["ec2:DescribeImages"] != 0 {
		t.Fatal("DescribeImages called though no agent needs the OS judged")
	}
}

func TestDoctorStillChecksInstancesWhenTheRoleCannotBeRead(t *testing.T) {
	w := healthyWorld(t)
	w.acct = deniedAccount()
	s, out, _ := streams(false)
	err := run(context.Background(), doctorOptsFor(w, s, outputJSON))
	if err != nil {
		t.Fatalf("err = %v (a role that cannot be read is a warning)", err)
	}
	if !strings.Contains(out.String(), `"check": "role-opt-in",
      "severity": "warning"`) {
		t.Fatalf("stdout = %s", out)
	}
	_ = accountsetting.Enabled
}

func strPtr(s string) *string { return &s }

func TestDoctorTurnsFailedSideReadsIntoWarnings(t *testing.T) {
	w := healthyWorld(t)
	w.cluster.Fail["iam:GetInstanceProfile"] = inventorytest.APIError("AccessDenied", "not allowed")
	w.cluster.Fail["ec2:DescribeSubnets"] = inventorytest.APIError("UnauthorizedOperation", "not allowed")
	s, out, _ := streams(false)
	if err := run(context.Background(), doctorOptsFor(w, s, outputJSON)); err != nil {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"could not find the instance roles behind the cluster", "shared subnets were not checked"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no warning %q in %s", want, out)
		}
	}
}

package inventory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

func loader(c *inventorytest.Cluster, concurrency int) *inventory.Loader {
	return inventory.NewLoader(c.ECS(), c.EC2(), c.IAM(), concurrency)
}

func TestContainerInstancesAreListedAndDescribedInBatchesOfAHundred(t *testing.T) {
	c := inventorytest.New()
	for i := 1; i <= 250; i++ {
		c.AddInstance(inventorytest.InstanceSpec{N: i, Trunk: i%2 == 0})
	}
	cis, warnings, err := loader(c, 4).ContainerInstances(context.Background(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(cis) != 250 || len(warnings) != 0 {
		t.Fatalf("got %d instances, warnings %v; want 250 and none", len(cis), warnings)
	}
	calls := c.Calls()
	if calls["ecs:ListContainerInstances"] != 3 || calls["ecs:DescribeContainerInstances"] != 3 {
		t.Fatalf("calls = %s; want 3 list pages and 3 describes", c.SortedOps())
	}
	if cis[0].EC2InstanceID != inventorytest.InstanceID(1) || cis[1].TrunkENI != inventorytest.TrunkID(2) || cis[0].InstanceType != "c5.large" {
		t.Fatalf("first instances = %+v, %+v", cis[0], cis[1])
	}
}

func TestTasksAreListedInPagesAndDescribedWithTheirENIs(t *testing.T) {
	c := inventorytest.New()
	c.AddInstance(inventorytest.InstanceSpec{N: 1, Trunk: true})
	for i := 1; i <= 205; i++ {
		c.AddTask(inventorytest.TaskSpec{N: i, Instance: 1, AWSVPC: i != 7})
	}
	var batches int
	tasks, _, err := loader(c, 4).Tasks(context.Background(), inventory.TaskQuery{Cluster: "prod", OnBatch: func([]inventory.Task) { batches++ }})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 205 || batches != 3 {
		t.Fatalf("got %d tasks in %d batches; want 205 in 3", len(tasks), batches)
	}
	if calls := c.Calls(); calls["ecs:ListTasks"] != 3 || calls["ecs:DescribeTasks"] != 3 {
		t.Fatalf("calls = %s", c.SortedOps())
	}
	awsvpc := 0
	for _, tk := range tasks {
		if tk.AWSVPC() {
			awsvpc++
			if tk.ENIs[0].NetworkInterfaceID == "" || tk.ENIs[0].MACAddress == "" || tk.ENIs[0].PrivateIPv4 == "" || tk.ENIs[0].SubnetID == "" {
				t.Fatalf("ENI details missing: %+v", tk.ENIs[0])
			}
		}
	}
	if awsvpc != 204 {
		t.Fatalf("awsvpc tasks = %d, want 204", awsvpc)
	}
}

func TestTasksOfOneContainerInstanceAreFiltered(t *testing.T) {
	c := inventorytest.New()
	c.AddInstance(inventorytest.InstanceSpec{N: 1})
	c.AddInstance(inventorytest.InstanceSpec{N: 2})
	c.AddTask(inventorytest.TaskSpec{N: 1, Instance: 1})
	c.AddTask(inventorytest.TaskSpec{N: 2, Instance: 2})
	tasks, _, err := loader(c, 2).Tasks(context.Background(), inventory.TaskQuery{Cluster: "prod", ContainerInstance: c.ContainerInstanceArn(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].Arn != c.TaskArn(2) {
		t.Fatalf("tasks = %+v", tasks)
	}
}

func TestCallsInFlightNeverExceedTheBound(t *testing.T) {
	c := inventorytest.New()
	c.Generate(300, 1500)
	c.Latency = 2 * time.Millisecond
	l := loader(c, 3)
	ctx := context.Background()
	if _, _, err := l.ContainerInstances(ctx, "prod"); err != nil {
		t.Fatal(err)
	}
	b := l.NewENIBatcher(ctx)
	if _, _, err := l.Tasks(ctx, inventory.TaskQuery{Cluster: "prod", OnBatch: func(ts []inventory.Task) {
		for _, tk := range ts {
			b.Add(tk.ENIs[0].NetworkInterfaceID)
		}
	}}); err != nil {
		t.Fatal(err)
	}
	enis, missing, err := b.Flush()
	if err != nil {
		t.Fatal(err)
	}
	if len(enis) != 1500 || len(missing) != 0 {
		t.Fatalf("enis %d missing %d", len(enis), len(missing))
	}
	if got := c.MaxInFlight(); got > 3 || got < 2 {
		t.Fatalf("max in flight = %d, want 2-3 (bounded at 3 yet concurrent)", got)
	}
	if got := c.Calls()["ec2:DescribeNetworkInterfaces"]; got != 8 {
		t.Fatalf("DescribeNetworkInterfaces calls = %d, want ceil(1500/200) = 8", got)
	}
}

func TestENIsEC2NoLongerKnowsAreReportedMissingNotFatal(t *testing.T) {
	c := inventorytest.New()
	c.AddInstance(inventorytest.InstanceSpec{N: 1, Trunk: true})
	b := loader(c, 2).NewENIBatcher(context.Background())
	b.Add(inventorytest.TrunkID(1), "eni-0gone", inventorytest.TrunkID(1), "")
	enis, missing, err := b.Flush()
	if err != nil {
		t.Fatal(err)
	}
	if len(enis) != 1 || len(missing) != 1 || missing[0] != "eni-0gone" {
		t.Fatalf("enis %v missing %v", enis, missing)
	}
	if got := c.Calls()["ec2:DescribeNetworkInterfaces"]; got != 2 {
		t.Fatalf("calls = %d, want 2 (ids, then the filter fallback)", got)
	}
}

func TestAListingErrorNamesTheVerbAndTheCluster(t *testing.T) {
	c := inventorytest.New()
	c.AddInstance(inventorytest.InstanceSpec{N: 1})
	c.Fail["ecs:DescribeContainerInstances"] = inventorytest.APIError("AccessDeniedException", "no")
	_, _, err := loader(c, 2).ContainerInstances(context.Background(), "prod")
	if err == nil || !strings.Contains(err.Error(), "describe container instances in prod") {
		t.Fatalf("err = %v", err)
	}
	_, _, err = loader(c, 2).ContainerInstances(context.Background(), "nope")
	if err == nil || !strings.Contains(err.Error(), "ClusterNotFoundException") {
		t.Fatalf("err = %v", err)
	}
}

func TestAMissingClusterIsAClusterNotFoundError(t *testing.T) {
	c := inventorytest.New()
	_, err := loader(c, 2).Cluster(context.Background(), "nope")
	var nf *inventory.ClusterNotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v", err)
	}
	if _, err := loader(c, 2).Cluster(context.Background(), "prod"); err != nil {
		t.Fatal(err)
	}
}

func TestASnapshotFindsTheRolesBehindAClusterFromInstanceProfiles(t *testing.T) {
	c := inventorytest.New()
	c.AddRole("EcsInstanceProfile", "EcsInstanceRole")
	c.AddRole("GpuProfile", "GpuRole")
	c.AddInstance(inventorytest.InstanceSpec{N: 1})
	c.AddInstance(inventorytest.InstanceSpec{N: 2})
	c.AddInstance(inventorytest.InstanceSpec{N: 3, Profile: "GpuProfile"})
	s, err := loader(c, 4).Snapshot(context.Background(), "prod", inventory.SnapshotOptions{Instances: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"arn:aws:iam::123456789012:role/EcsInstanceRole", "arn:aws:iam::123456789012:role/GpuRole"}
	if roles := s.RoleArns(); strings.Join(roles, ",") != strings.Join(want, ",") || len(s.NoProfile) != 0 || s.RolesErr != nil {
		t.Fatalf("roles = %v, noProfile = %v, err = %v", roles, s.NoProfile, s.RolesErr)
	}
	if got := s.InstanceRoles[inventorytest.InstanceID(3)]; len(got) != 1 || got[0] != want[1] {
		t.Fatalf("role of instance 3 = %v", got)
	}
	if got := c.Calls()["iam:GetInstanceProfile"]; got != 2 {
		t.Fatalf("GetInstanceProfile calls = %d, want one per distinct profile", got)
	}
	if c.Calls()["ecs:ListTasks"] != 0 {
		t.Fatalf("tasks listed though not asked for: %s", c.SortedOps())
	}
}

func TestASnapshotReadsTasksAndTheirENIsTogether(t *testing.T) {
	c := inventorytest.New()
	c.AddInstance(inventorytest.InstanceSpec{N: 1, Trunk: true})
	c.AddInstance(inventorytest.InstanceSpec{N: 2})
	c.AddTask(inventorytest.TaskSpec{N: 1, Instance: 1, AWSVPC: true})
	c.AddTask(inventorytest.TaskSpec{N: 2, Instance: 2, AWSVPC: true})
	s, err := loader(c, 4).Snapshot(context.Background(), "prod", inventory.SnapshotOptions{Tasks: true, ENIs: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ContainerInstances) != 2 || len(s.Tasks) != 2 || len(s.ENIs) != 3 || len(s.MissingENIs) != 0 {
		t.Fatalf("snapshot = %d instances, %d tasks, ENIs %v, missing %v", len(s.ContainerInstances), len(s.Tasks), s.ENIs, s.MissingENIs)
	}
	if _, ok := s.ENIs[inventorytest.TrunkID(1)]; !ok {
		t.Fatalf("trunk not described: %v", s.ENIs)
	}
	if c.Calls()["ec2:DescribeInstances"] != 0 {
		t.Fatalf("EC2 instances described though not asked for: %s", c.SortedOps())
	}
	one, err := loader(c, 4).Snapshot(context.Background(), "prod", inventory.SnapshotOptions{Tasks: true, Instance: inventorytest.InstanceID(2)})
	if err != nil || len(one.ContainerInstances) != 1 || len(one.Tasks) != 1 || one.Tasks[0].ContainerInstanceArn != one.ContainerInstances[0].Arn {
		t.Fatalf("one instance: %+v, %v", one, err)
	}
	_, err = loader(c, 4).Snapshot(context.Background(), "prod", inventory.SnapshotOptions{Instance: "i-nope"})
	var inf *inventory.InstanceNotFoundError
	if !errors.As(err, &inf) || inf.Instance != "i-nope" {
		t.Fatalf("err = %v", err)
	}
}

func TestASnapshotOfAMissingClusterIsAClusterNotFoundErrorWithoutAdvice(t *testing.T) {
	c := inventorytest.New()
	_, err := loader(c, 2).Snapshot(context.Background(), "nope", inventory.SnapshotOptions{Tasks: true})
	var nf *inventory.ClusterNotFoundError
	if !errors.As(err, &nf) || nf.Cluster != "nope" {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "--region") || strings.Contains(err.Error(), "list-clusters") {
		t.Fatalf("inventory's error carries advice: %v", err)
	}
}

func TestRoleExistsTellsMissingFromFailing(t *testing.T) {
	c := inventorytest.New()
	c.AddRole("P", "AWSServiceRoleForECS")
	l := loader(c, 1)
	if ok, err := l.RoleExists(context.Background(), "AWSServiceRoleForECS"); !ok || err != nil {
		t.Fatalf("existing role: %v %v", ok, err)
	}
	if ok, err := l.RoleExists(context.Background(), "Nope"); ok || err != nil {
		t.Fatalf("missing role: %v %v", ok, err)
	}
	c.Fail["iam:GetRole"] = inventorytest.APIError("AccessDenied", "no")
	if _, err := l.RoleExists(context.Background(), "Nope"); err == nil {
		t.Fatal("want an error when GetRole is denied")
	}
}

func TestInstancesAndImagesThatAreGoneDoNotFailTheOthers(t *testing.T) {
	c := inventorytest.New()
	c.AddInstance(inventorytest.InstanceSpec{N: 1})
	l := loader(c, 2)
	insts, err := l.Instances(context.Background(), []string{inventorytest.InstanceID(1), "i-0gone"})
	if err != nil || len(insts) != 1 {
		t.Fatalf("instances %v err %v", insts, err)
	}
	images, err := l.Images(context.Background(), []string{"ami-0al2023", "ami-0gone"})
	if err != nil || len(images) != 1 || !images["ami-0al2023"].IsAmazonLinux() {
		t.Fatalf("images %v err %v", images, err)
	}
	if calls := c.Calls(); calls["ec2:DescribeInstances"] != 2 || calls["ec2:DescribeImages"] != 2 {
		t.Fatalf("calls = %s; want one retry with a filter each", c.SortedOps())
	}
}

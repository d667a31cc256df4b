package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

func TestEnisShowsEachTrunkWithTheTaskENIsOnIt(t *testing.T) {
	w := newWorld(t)
	s, out, _ := streams(false)
	if err := run(context.Background(), &enisOpts{cluster: "prod", env: w.env(s, outputJSON)}); err != nil {
		t.Fatal(err)
	}
	golden(t, "enis.golden.json", out.Bytes())
	calls := w.cluster.Calls()
	if calls["ec2:DescribeNetworkInterfaces"] != 1 {
		t.Fatalf("calls = %s; want one DescribeNetworkInterfaces for trunk and branch ENIs together", w.cluster.SortedOps())
	}
}

func TestEnisOfOneInstanceListsOnlyItsTasks(t *testing.T) {
	for _, id := range []string{inventorytest.InstanceID(1), "00000000000000000000000000000001"} {
		w := newWorld(t)
		s, out, _ := streams(false)
		if err := run(context.Background(), &enisOpts{cluster: "prod", instance: id, env: w.env(s, outputTable)}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], "\t"+inventorytest.TrunkID(1)+"\t"+inventorytest.BranchID(1)+"\t") {
			t.Fatalf("--instance %s: output = %q", id, out)
		}
		if q := w.cluster.Calls()["ecs:ListTasks"]; q != 1 {
			t.Fatalf("ListTasks calls = %d", q)
		}
	}
}

func TestEnisOfAnUnknownInstanceIsAnError(t *testing.T) {
	w := newWorld(t)
	s, _, _ := streams(false)
	err := run(context.Background(), &enisOpts{cluster: "prod", instance: "i-0000000000000dead", env: w.env(s, outputTable)})
	if ExitCodeOf(err) != ExitError || !strings.Contains(err.Error(), `no container instance "i-0000000000000dead"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestEnisWarnsAboutENIsEC2NoLongerKnows(t *testing.T) {
	w := newWorld(t)
	delete(w.cluster.ENIs, inventorytest.BranchID(2))
	s, out, errOut := streams(false)
	if err := run(context.Background(), &enisOpts{cluster: "prod", env: w.env(s, outputJSON)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "1 ENI(s) no longer exist in EC2") || !strings.Contains(out.String(), `"missingEnis": [
    "`+inventorytest.BranchID(2)) {
		t.Fatalf("stderr %s\nstdout %s", errOut, out)
	}
}

func TestEnisSayEachENIsTypeAndTheTasksStatusAndServiceOrFamily(t *testing.T) {
	w := newWorld(t)
	w.cluster.AddTask(inventorytest.TaskSpec{N: 20, Instance: 1, AWSVPC: true, Standalone: true, Status: "PENDING"})
	s, out, errOut := streams(false)
	if err := run(context.Background(), &enisOpts{cluster: "prod", env: w.env(s, outputTable)}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"\t" + inventorytest.BranchID(1) + "\tbranch\t00000000000000000000000000000001\tRUNNING\tservice:web\t",
		"\t" + inventorytest.BranchID(20) + "\tbranch\t00000000000000000000000000000014\tPENDING\tfamily:web\t",
		"\tno trunk\t" + inventorytest.BranchID(4) + "\tinterface\t",
	}
	for _, w := range want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("no %q in\n%s", w, out)
		}
	}
	if !strings.Contains(errOut.String(), "have no trunk, so each of their tasks takes a whole ENI: "+inventorytest.InstanceID(2)) {
		t.Errorf("hint does not name the instance: %s", errOut)
	}
}

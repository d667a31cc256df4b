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
	err := run(context.Background(), &enisOpts{cluster: "prod", instance: "i-nope", env: w.env(s, outputTable)})
	if ExitCodeOf(err) != ExitError || !strings.Contains(err.Error(), `no container instance "i-nope"`) {
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

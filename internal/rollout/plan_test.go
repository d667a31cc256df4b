package rollout

import (
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// capable is what an agent that can trunk reports.
var capable = inventory.HostAttributes{TaskENI: true, Trunking: true, BranchCNI: "a21d3a41-", OSType: "linux"}

func TestThePlanTakesEachActionFromTheJudge(t *testing.T) {
	ci := func(id, typ, os, trunk, agent string) inventory.ContainerInstance {
		return inventory.ContainerInstance{Arn: "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/" + id, EC2InstanceID: "i-" + id,
			InstanceType: typ, Status: "ACTIVE", OSType: os, TrunkENI: trunk, AgentVersion: agent, Host: capable}
	}
	tests := []struct {
		name       string
		ci         inventory.ContainerInstance
		group      string
		want       Action
		wantReason string
	}{
		{name: "an instance with a trunk is trunked", ci: ci("a", "c5.large", "linux", "eni-1", "1.89.0"), group: "g", want: ActionTrunked},
		{name: "no trunk on a supported type in a group is replaced", ci: ci("b", "c5.large", "linux", "", "1.89.0"), group: "g", want: ActionReplace},
		{name: "no trunk outside a group is skipped", ci: ci("c", "c5.large", "linux", "", "1.89.0"), want: ActionSkip, wantReason: "not in an Auto Scaling group"},
		{name: "a type ECS does not support is skipped", ci: ci("d", "t3.large", "linux", "", "1.89.0"), group: "g", want: ActionSkip, wantReason: "not supported"},
		{name: "Windows is skipped", ci: ci("e", "c5.large", "windows", "", "1.89.0"), group: "g", want: ActionSkip, wantReason: "Windows"},
		{name: "an agent too old to trunk is skipped", ci: ci("f", "c5.large", "linux", "", "1.20.0"), group: "g", want: ActionSkip, wantReason: "too old"},
		{name: "a type the published table lacks is skipped", ci: ci("g", "zz9.huge", "linux", "", "1.89.0"), group: "g", want: ActionSkip, wantReason: "zz9.huge"},
		{name: "a newer family without a trunk is replaced like a supported type", ci: ci("h", "c7i.large", "linux", "", "1.89.0"), group: "g", want: ActionReplace},
		{name: "an agent that cannot trunk is skipped, never replaced", ci: func() inventory.ContainerInstance {
			c := ci("i", "c5.large", "linux", "", "1.89.0")
			c.Host.TaskENI = false
			return c
		}(), group: "g", want: ActionSkip, wantReason: "the agent cannot trunk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groupOf := map[string]string{}
			if tt.group != "" {
				groupOf[tt.ci.EC2InstanceID] = tt.group
			}
			p := newPlan("prod", catalog.Default(), judged(tt.ci), groupOf,
				map[string]Group{"g": {Name: "g", Max: 4, Desired: 1, Instances: []string{tt.ci.EC2InstanceID}}}, DefaultMaxUnavailable, MethodDrain)
			it := p.Items[0]
			if it.Action != tt.want || !strings.Contains(it.Reason, tt.wantReason) {
				t.Fatalf("action %s (%s), want %s with a reason saying %q", it.Action, it.Reason, tt.want, tt.wantReason)
			}
			if (len(p.Batches) == 1) != (tt.want == ActionReplace) {
				t.Fatalf("batches %v for a %s item", p.Batches, it.Action)
			}
		})
	}
}

func TestThePlanPutsInstancesAlreadyDrainingFirstAndBatchesAcrossGroups(t *testing.T) {
	var cis []inventory.ContainerInstance
	groupOf := map[string]string{}
	groups := map[string]Group{}
	for i, g := range []string{"a", "a", "a", "b", "b", "b", "b"} {
		id := string(rune('0' + i))
		c := inventory.ContainerInstance{Arn: "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/" + id, EC2InstanceID: "i-" + id,
			InstanceType: "c5.large", Status: "ACTIVE", OSType: "linux", AgentVersion: "1.89.0", Host: capable}
		if i == 5 {
			c.Status = "DRAINING"
		}
		cis = append(cis, c)
		groupOf[c.EC2InstanceID] = g
		gr := groups[g]
		gr.Name, gr.Max = g, 10
		gr.Instances = append(gr.Instances, c.EC2InstanceID)
		groups[g] = gr
	}
	p := newPlan("prod", catalog.Default(), judged(cis...), groupOf, groups, MaxUnavailable{N: 2}, MethodDrain)
	want := "[[i-5] [i-0 i-1] [i-2 i-3] [i-4 i-6]]"
	if got := fmtBatches(p.Batches); got != want {
		t.Fatalf("batches %s, want %s", got, want)
	}
	if p.SlotsBefore != 14 || p.SlotsAfter != 70 {
		t.Fatalf("slots %d -> %d, want 14 -> 70", p.SlotsBefore, p.SlotsAfter)
	}
}

func judged(cis ...inventory.ContainerInstance) []doctor.InstanceReport {
	return doctor.Judge(doctor.Input{Snapshot: inventory.Snapshot{Cluster: "prod", ContainerInstances: cis}, Catalog: catalog.Default()}).Instances
}

func fmtBatches(b [][]string) string {
	var parts []string
	for _, ids := range b {
		parts = append(parts, "["+strings.Join(ids, " ")+"]")
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestAnECSManagedInstanceWithoutATrunkIsNeverReplaced(t *testing.T) {
	c := inventory.ContainerInstance{Arn: "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/m", EC2InstanceID: "i-m",
		InstanceType: "c5.large", Status: "ACTIVE", OSType: "linux", CapacityProvider: "mi-cp", Host: capable}
	r := doctor.Judge(doctor.Input{Snapshot: inventory.Snapshot{Cluster: "prod", ContainerInstances: []inventory.ContainerInstance{c}}, Catalog: catalog.Default(),
		Signals: inventory.SignalSet{Providers: map[string]inventory.CapacityProvider{"mi-cp": {Name: "mi-cp", Type: inventory.CapacityProviderTypeManaged}}}})
	p := newPlan("prod", catalog.Default(), r.Instances, map[string]string{"i-m": "g"},
		map[string]Group{"g": {Name: "g", Max: 4, Desired: 1, Instances: []string{"i-m"}}}, DefaultMaxUnavailable, MethodDrain)
	if it := p.Items[0]; it.Action != ActionSkip || !strings.Contains(it.Reason, "ECS Managed Instances") || len(p.Batches) != 0 {
		t.Fatalf("item %+v, batches %v", it, p.Batches)
	}
}

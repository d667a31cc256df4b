package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/trunkctl/trunkctl/internal/inventory"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

// errWrite is what the rollout fakes answer to a write: these tests prove
// that nothing is written.
var errWrite = errors.New("write refused by the test")

// writeLog records the writes a rollout attempted.
type writeLog struct {
	mu     sync.Mutex
	writes []string
}

func (l *writeLog) add(op string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = append(l.writes, op)
	return errWrite
}

// rolloutECS is the fake cluster's ECS with rollout's writes recorded.
type rolloutECS struct {
	inventory.ECSAPI
	log *writeLog
}

func (e rolloutECS) UpdateContainerInstancesState(context.Context, *ecs.UpdateContainerInstancesStateInput, ...func(*ecs.Options)) (*ecs.UpdateContainerInstancesStateOutput, error) {
	return nil, e.log.add("ecs:UpdateContainerInstancesState")
}

func (e rolloutECS) DeregisterContainerInstance(context.Context, *ecs.DeregisterContainerInstanceInput, ...func(*ecs.Options)) (*ecs.DeregisterContainerInstanceOutput, error) {
	return nil, e.log.add("ecs:DeregisterContainerInstance")
}

func (e rolloutECS) StopTask(context.Context, *ecs.StopTaskInput, ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	return nil, e.log.add("ecs:StopTask")
}

// rolloutASG answers rollout's Auto Scaling reads from the fake cluster's
// groups and records its writes.
type rolloutASG struct {
	c   *inventorytest.Cluster
	log *writeLog
}

func (a rolloutASG) DescribeAutoScalingInstances(_ context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error) {
	out := &autoscaling.DescribeAutoScalingInstancesOutput{}
	for _, id := range in.InstanceIds {
		for name, g := range a.c.Extra.AutoScalingGroups {
			for _, i := range g.Instances {
				if aws.ToString(i.InstanceId) == id {
					out.AutoScalingInstances = append(out.AutoScalingInstances, astypes.AutoScalingInstanceDetails{InstanceId: aws.String(id), AutoScalingGroupName: aws.String(name)})
				}
			}
		}
	}
	return out, nil
}

func (a rolloutASG) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, o ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	return a.c.AutoScaling().DescribeAutoScalingGroups(ctx, in, o...)
}

func (a rolloutASG) DescribeInstanceRefreshes(context.Context, *autoscaling.DescribeInstanceRefreshesInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error) {
	return &autoscaling.DescribeInstanceRefreshesOutput{}, nil
}

func (a rolloutASG) SetDesiredCapacity(context.Context, *autoscaling.SetDesiredCapacityInput, ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error) {
	return nil, a.log.add("autoscaling:SetDesiredCapacity")
}

func (a rolloutASG) SetInstanceProtection(context.Context, *autoscaling.SetInstanceProtectionInput, ...func(*autoscaling.Options)) (*autoscaling.SetInstanceProtectionOutput, error) {
	return nil, a.log.add("autoscaling:SetInstanceProtection")
}

func (a rolloutASG) TerminateInstanceInAutoScalingGroup(context.Context, *autoscaling.TerminateInstanceInAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.TerminateInstanceInAutoScalingGroupOutput, error) {
	return nil, a.log.add("autoscaling:TerminateInstanceInAutoScalingGroup")
}

func (a rolloutASG) StartInstanceRefresh(context.Context, *autoscaling.StartInstanceRefreshInput, ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error) {
	return nil, a.log.add("autoscaling:StartInstanceRefresh")
}

func (a rolloutASG) CancelInstanceRefresh(context.Context, *autoscaling.CancelInstanceRefreshInput, ...func(*autoscaling.Options)) (*autoscaling.CancelInstanceRefreshOutput, error) {
	return nil, a.log.add("autoscaling:CancelInstanceRefresh")
}

func (a rolloutASG) CreateOrUpdateTags(context.Context, *autoscaling.CreateOrUpdateTagsInput, ...func(*autoscaling.Options)) (*autoscaling.CreateOrUpdateTagsOutput, error) {
	return nil, a.log.add("autoscaling:CreateOrUpdateTags")
}

func (a rolloutASG) DeleteTags(context.Context, *autoscaling.DeleteTagsInput, ...func(*autoscaling.Options)) (*autoscaling.DeleteTagsOutput, error) {
	return nil, a.log.add("autoscaling:DeleteTags")
}

// rolloutDeps are the world's deps with rollout's clients on the same fake
// cluster (reads answered, writes recorded and refused).
func (w *world) rolloutDeps(s *IOStreams, log *writeLog) Deps {
	d := w.deps(s)
	d.AWS = func(context.Context, GlobalOptions, io.Writer) (*AWS, error) {
		a := w.aws()
		a.Rollout = RolloutClients{ECS: rolloutECS{ECSAPI: w.cluster.ECS(), log: log}, ASG: rolloutASG{c: w.cluster, log: log}}
		return a, nil
	}
	return d
}

// inGroups puts every instance that no group holds into the group "rest".
func (w *world) inGroups() {
	held := map[string]bool{}
	for _, g := range w.cluster.Extra.AutoScalingGroups {
		for _, i := range g.Instances {
			held[aws.ToString(i.InstanceId)] = true
		}
	}
	var rest []int
	for n := 1; n <= 60; n++ {
		if _, ok := w.cluster.Instances[inventorytest.InstanceID(n)]; ok && !held[inventorytest.InstanceID(n)] {
			rest = append(rest, n)
		}
	}
	if len(rest) > 0 {
		w.cluster.AddAutoScalingGroup(inventorytest.ASGSpec{Name: "rest", Template: "lt-0rest", Subnets: []string{"subnet-0a"}, Instances: rest})
	}
}

// rolloutJSON is what these tests read of `rollout -o json`.
type rolloutJSON struct {
	Skipped []struct {
		EC2InstanceID string `json:"ec2InstanceId"`
		Reason        string `json:"reason"`
	} `json:"skipped"`
	Batches [][]string `json:"batches"`
	Trunked int        `json:"trunked"`
	Planned int        `json:"planned"`
	Result  string     `json:"result"`
}

// For every doctor scenario, the action rollout plans for each container
// instance is the one the judge's remedy implies (replace only what a
// replacement through its group fixes), and the fleet view's STALE count is
// rollout's replace count: one assessment, one verdict -> action mapping.
func TestRolloutPlanAndFleetStaleFollowTheJudgeInEveryScenario(t *testing.T) {
	for _, grouped := range []bool{true, false} {
		for _, sc := range doctorScenarios() {
			name := sc.name
			if !grouped {
				name += " (instances outside a group where the scenario has none)"
			}
			t.Run(name, func(t *testing.T) { planFollowsJudge(t, sc, grouped) })
		}
	}
}

func planFollowsJudge(t *testing.T, sc scenario, grouped bool) {
	w := scenarioWorld(t)
	sc.build(w)
	if grouped {
		w.inGroups()
	}

	s, out, errOut := streams(false)
	if code := Run(context.Background(), []string{"instances", "--cluster", "prod", "-o", "json"}, w.deps(s)); code != sc.exit {
		t.Fatalf("instances exit %d, want %d: %s%s", code, sc.exit, out, errOut)
	}
	var inst struct {
		Instances []instanceRow `json:"instances"`
	}
	if err := json.Unmarshal(out.Bytes(), &inst); err != nil {
		t.Fatalf("instances JSON: %v\n%s", err, out)
	}
	want := map[string]string{}
	for _, r := range inst.Instances {
		v := r.Verdict
		switch {
		case (v.Remedy == "replace" || v.Remedy == "enable-then-replace") && r.AutoScalingGroup != "":
			want[r.EC2InstanceID] = "replace"
		case v.Remedy == "none" && v.Healthy:
			want[r.EC2InstanceID] = "trunked"
		default:
			want[r.EC2InstanceID] = "skip"
		}
	}

	log := &writeLog{}
	s, out, errOut = streams(false)
	code := Run(context.Background(), []string{"rollout", "--cluster", "prod", "--dry-run", "-o", "json"}, w.rolloutDeps(s, log))
	if code != ExitOK && code != ExitUnhealthy {
		t.Fatalf("rollout --dry-run exit %d: %s%s", code, out, errOut)
	}
	var ro rolloutJSON
	if err := json.Unmarshal(out.Bytes(), &ro); err != nil {
		t.Fatalf("rollout JSON: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, b := range ro.Batches {
		for _, id := range b {
			got[id] = "replace"
		}
	}
	for _, sk := range ro.Skipped {
		got[sk.EC2InstanceID] = "skip"
	}
	trunked := 0
	for id, a := range want {
		if a == "trunked" {
			trunked++
			continue
		}
		if got[id] != a {
			t.Errorf("%s: rollout plans %q, the judge's remedy implies %q\n%s", id, got[id], a, out)
		}
	}
	if ro.Trunked != trunked || len(got) != len(want)-trunked {
		t.Errorf("rollout: %d trunked and %d other actions, want %d and %d\n%s", ro.Trunked, len(got), trunked, len(want)-trunked, out)
	}
	cells := cellsOfInstances(inst.Instances)
	if *cells.stale != ro.Planned {
		t.Errorf("fleet STALE %d, rollout replaces %d", *cells.stale, ro.Planned)
	}
	if len(log.writes) > 0 {
		t.Errorf("a dry run wrote: %v", log.writes)
	}
}

// A host whose agent cannot trunk (Ubuntu, agent 1.28.5), and an instance in
// a subnet shared from another account, are not replaced: rollout skips them
// with the judge's reason, writes nothing to their groups and exits 3.
func TestRolloutSkipsWhatAReplacementWouldNotFix(t *testing.T) {
	for _, name := range []string{
		"an agent older than 1.29.1 off Amazon Linux is updated, not replaced",
		"a shared subnet fails registration and the group's subnet is named",
	} {
		t.Run(name, func(t *testing.T) {
			var sc scenario
			for _, s := range doctorScenarios() {
				if s.name == name {
					sc = s
				}
			}
			if sc.build == nil {
				t.Fatalf("no doctor scenario %q", name)
			}
			w := scenarioWorld(t)
			sc.build(w)
			w.inGroups()
			s, out, errOut := streams(false)
			if code := Run(context.Background(), []string{"doctor", "--cluster", "prod", "-o", "json"}, w.deps(s)); code != ExitUnhealthy {
				t.Fatalf("doctor exit %d: %s%s", code, out, errOut)
			}
			var doc scenarioJSON
			_ = json.Unmarshal(out.Bytes(), &doc)
			var reason string
			for _, f := range doc.Findings {
				if f.Check == "instance" && f.Subject == sc.instance {
					reason = f.Message
				}
			}
			if reason == "" {
				t.Fatalf("doctor has no instance finding on %s: %s", sc.instance, out)
			}

			log := &writeLog{}
			s, out, errOut = streams(false)
			code := Run(context.Background(), []string{"rollout", "--cluster", "prod", "--max-unavailable", "1", "--yes", "-o", "json"}, w.rolloutDeps(s, log))
			if code != ExitUnhealthy {
				t.Fatalf("rollout exit %d, want 3: %s%s", code, out, errOut)
			}
			var ro rolloutJSON
			if err := json.Unmarshal(out.Bytes(), &ro); err != nil {
				t.Fatalf("rollout JSON: %v\n%s", err, out)
			}
			found := false
			for _, sk := range ro.Skipped {
				if sk.EC2InstanceID == sc.instance {
					found = true
					if sk.Reason != reason {
						t.Errorf("skip reason %q, want the judge's %q", sk.Reason, reason)
					}
				}
			}
			if !found || ro.Planned != 0 || ro.Result != "done-with-skipped" {
				t.Errorf("rollout did not skip %s alone: %s", sc.instance, out)
			}
			if len(log.writes) > 0 {
				t.Errorf("rollout wrote %v", log.writes)
			}
		})
	}
}

// A cluster of ECS Managed Instances only: their role needs no opt-in (ECS
// trunks them itself), so doctor exits 0 and never advises trunkctl enable,
// even with the role's setting disabled.
func TestManagedInstancesOnlyNeedNoOptIn(t *testing.T) {
	managedWorld := func(other bool) *world {
		c := inventorytest.New()
		c.AddRole("EcsInstanceProfile", "EcsInstanceRole")
		c.AddRole("ServiceLinked", "AWSServiceRoleForECS")
		c.AddCapacityProvider("mi-cp", "")
		for n := 1; n <= 2; n++ {
			c.AddInstance(inventorytest.InstanceSpec{N: n, Trunk: true})
			c.MakeManaged(n, "mi-cp")
		}
		if other {
			c.AddInstance(inventorytest.InstanceSpec{N: 3, Trunk: true})
		}
		w := healthyWorld(t)
		w.cluster = c
		w.acct = w.acctWith(func(d *accountsettingDefault) { d.disabled = true })
		return w
	}
	w := managedWorld(false)
	for _, args := range [][]string{{"doctor", "--cluster", "prod"}, {"instances", "--cluster", "prod"}} {
		s, out, errOut := streams(false)
		if code := Run(context.Background(), args, w.deps(s)); code != ExitOK {
			t.Fatalf("%s exit %d, want 0:\n%s%s", args[0], code, out, errOut)
		}
		if all := out.String() + errOut.String(); strings.Contains(all, "trunkctl enable") {
			t.Errorf("%s advises an opt-in for Managed Instances:\n%s", args[0], all)
		}
	}
	// A role serving both kinds is judged on its other instances.
	w = managedWorld(true)
	s, out, errOut := streams(false)
	if code := Run(context.Background(), []string{"doctor", "--cluster", "prod"}, w.deps(s)); code != ExitUnhealthy || !strings.Contains(out.String(), "trunkctl enable --role "+roleArn) {
		t.Fatalf("a disabled role behind a non-managed instance: exit %d\n%s%s", code, out, errOut)
	}
}

// The same assessment feeds every command: rollout reads what doctor reads.
func TestRolloutReadsWhatDoctorReads(t *testing.T) {
	ops := func(args ...string) []string {
		w := scenarioWorld(t)
		w.inGroups()
		s, _, _ := streams(false)
		Run(context.Background(), args, w.rolloutDeps(s, &writeLog{}))
		var names []string
		for op := range w.cluster.Calls() {
			names = append(names, op)
		}
		sort.Strings(names)
		return names
	}
	doctorOps := ops("doctor", "--cluster", "prod")
	rolloutOps := strings.Join(ops("rollout", "--cluster", "prod", "--dry-run"), " ")
	for _, op := range doctorOps {
		if !strings.Contains(rolloutOps, op) {
			t.Errorf("doctor reads %s, rollout does not (rollout reads: %s)", op, rolloutOps)
		}
	}
}

package guard_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/trunkctl/trunkctl/internal/guard"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

// FuzzHandleEvent feeds arbitrary events to the guard: it must never panic,
// and an event that is not a sweep must never fail the invocation or cost
// more than the event path's three calls.
func FuzzHandleEvent(f *testing.F) {
	t := &testing.T{}
	w := healthyWorld()
	w.prod().AddInstance(inventorytest.InstanceSpec{N: 3})
	for _, seed := range [][]byte{
		stateChange(t, w.prod(), 1), stateChange(t, w.prod(), 3),
		placementFailure(w.prod(), "web", "RESOURCE:ENI"), placementFailure(w.prod(), "web", "RESOURCE:MEMORY"),
		[]byte(`{"source":"aws.ecs","detail-type":"ECS Container Instance State Change","detail":{"clusterArn":"arn:aws:ecs:us-east-1:1:cluster/x","containerInstanceArn":"a","ec2InstanceId":"i","status":"ACTIVE","versionInfo":{"agentVersion":"1.90.0"},"attributes":[{"name":"ecs.instance-type","value":"c5.large"}],"registeredAt":"not a time"}}`),
		[]byte(`{"source":"aws.ecs","detail-type":"ECS Service Action","resources":["arn:aws:ecs:us-east-1:1:service/"],"detail":{"eventName":"SERVICE_TASK_PLACEMENT_FAILURE","reasons":["RESOURCE:ENI"],"clusterArn":":cluster/"}}`),
		[]byte(`null`), []byte(`[]`), []byte(`{"detail":7}`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ev []byte) {
		var env struct {
			Source     string `json:"source"`
			DetailType string `json:"detail-type"`
		}
		if json.Unmarshal(ev, &env) == nil && env.Source == "aws.events" {
			t.Skip("a sweep reads the cluster; covered by the sweep tests")
		}
		w := healthyWorld()
		w.prod().AddInstance(inventorytest.InstanceSpec{N: 3})
		g := w.guard(guard.Config{TopicArn: topicArn})
		if err := g.Handle(context.Background(), json.RawMessage(ev)); err != nil {
			t.Fatalf("an event failed the invocation: %v", err)
		}
		if n := w.awsCalls(); n > 3 {
			t.Fatalf("%d AWS calls for one event", n)
		}
		if n := w.prod().TotalCalls() + len(w.acct.Calls()); n != 0 {
			t.Fatalf("an event read the cluster (%d calls)", n)
		}
	})
}

package guard

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// JudgeEvent judges the container instance of a state-change detail alone,
// with no AWS call. It returns the error finding to notify, with the same
// check and subject as the judge's for that instance, or nil: a trunked
// instance, one registering or leaving, a Managed Instance (or one that may
// be: in doubt the next sweep judges it), and anything the judge does not
// call an error.
func JudgeEvent(cluster, account string, ci inventory.ContainerInstance, cat *catalog.Catalog) *doctor.Finding {
	if ci.TrunkENI != "" {
		return nil
	}
	// ECS reports no agent version for ECS Managed Instances; without it
	// the instance may be one, and a false alarm is worse than a wait.
	if ci.AgentVersion == "" {
		return nil
	}
	if ci.Status != "ACTIVE" && ci.Status != "REGISTRATION_FAILED" {
		return nil
	}
	v := doctor.JudgeInstance(doctor.InstanceFacts{
		Cluster: cluster, AccountID: account, CI: ci, Host: ci.Host, Type: cat.Lookup(ci.InstanceType),
	})
	if v.Severity != doctor.Error {
		return nil
	}
	finding := doctor.Finding{Check: doctor.CheckInstance, Severity: v.Severity, Subject: ci.EC2InstanceID, Message: v.Message, Fix: v.Fix}
	if v.Code == doctor.VerdictRoleUnknownNoTrunk {
		// The event names no role and the guard reads none here: say what
		// is known, and where the reason will be.
		finding.Message = fmt.Sprintf("registered without a trunk ENI (no %s attribute) although type %s and its agent %s can trunk; the next sweep (or trunkctl doctor --cluster %s) says why", inventory.AttrTrunkID, ci.InstanceType, ci.AgentVersion, cluster)
		finding.Fix = fmt.Sprintf("trunkctl doctor --cluster %s shows the verdict on %s and its fix (usually: trunkctl enable --role ROLE for its instance role, then replace it: %s)", cluster, ci.EC2InstanceID, doctor.Drain(cluster, ci))
	}
	return &finding
}

// instanceChanged handles ECS Container Instance State Change. It must stay
// cheap: it fires on every task start and stop. A trunked instance, a
// Managed Instance, or one outside CLUSTERS costs no AWS call; an untrunked
// one at most GetParameter, Publish and PutParameter.
func (g *Guard) instanceChanged(ctx context.Context, ev envelope) error {
	cluster, ci, err := decodeInstance(ev.Detail)
	if err != nil {
		g.Log.Warn("ignoring a state-change event without a readable container instance", "error", err.Error())
		return nil
	}
	if !g.Config.inScope(cluster) {
		return nil
	}
	f := JudgeEvent(cluster, ev.Account, ci, g.catalog())
	if f == nil {
		return nil
	}
	return g.notifyOne(ctx, cluster, ev, *f)
}

// serviceAction handles ECS Service Action: a placement failure for lack
// of ENIs is notified once per service (check and subject as doctor's).
func (g *Guard) serviceAction(ctx context.Context, ev envelope) error {
	var d serviceActionDetail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		g.Log.Warn("ignoring a service action event with an unreadable detail", "error", err.Error())
		return nil
	}
	if !d.eniPlacementFailure() {
		return nil
	}
	cluster := inventory.ResourceID(d.ClusterArn)
	service := ""
	for _, r := range ev.Resources {
		if service = serviceName(r); service != "" {
			break
		}
	}
	if cluster == "" || service == "" {
		g.Log.Warn("ignoring a placement failure that names no cluster or service", "clusterArn", d.ClusterArn, "resources", ev.Resources)
		return nil
	}
	if !g.Config.inScope(cluster) {
		return nil
	}
	f := doctor.Finding{Check: doctor.CheckServiceEvents, Severity: doctor.Warning, Subject: service,
		Message: fmt.Sprintf("service %s could not place tasks for lack of ENIs (RESOURCE:ENI)", service),
		Fix:     fmt.Sprintf("trunkctl doctor --cluster %s names the instances without a trunk and their fixes; or add trunked capacity to cluster %s (trunkctl capacity --family FAMILY)", cluster, cluster)}
	return g.notifyOne(ctx, cluster, ev, f)
}

// notifyOne adds one finding to the cluster's state: when it is new, one
// publish naming it and the state written with it. When only the state's
// hash is kept, whether it is new cannot be told: the next sweep decides.
func (g *Guard) notifyOne(ctx context.Context, cluster string, ev envelope, f doctor.Finding) error {
	c, err := g.clients(ctx)
	if err != nil {
		return err
	}
	before, err := g.readState(ctx, c.SSM, cluster)
	if err != nil {
		return err
	}
	has, known := before.has(key(f))
	if has {
		return nil
	}
	if !known {
		g.Log.Info("state kept as a hash; the next sweep decides whether this is new", "cluster", cluster, "check", f.Check, "subject", f.Subject)
		return nil
	}
	now := stateOf(append(append([]string(nil), before.keys...), key(f)))
	n := Notification{Cluster: cluster, Account: ev.Account, Region: ev.Region, Findings: []NotifiedFinding{notified(f)}}
	_, err = g.notifyChange(ctx, c, n, before, now)
	return err
}

package guard

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// ClusterResult is what a sweep did with one cluster.
type ClusterResult struct {
	Cluster string
	// Findings are the error findings notified on (ErrorFindings, plus the
	// placement failures an event notified that doctor still reports).
	Findings []doctor.Finding
	Metrics  Metrics
	Notified bool
	Err      error
}

// Sweep judges every cluster in scope with the same assessment as
// `trunkctl doctor` and notifies the changes. A cluster that cannot be read
// is logged and skipped; the sweep fails only when every cluster failed.
func (g *Guard) Sweep(ctx context.Context) error {
	_, err := g.SweepResults(ctx)
	return err
}

// SweepResults is Sweep, returning what happened to each cluster.
func (g *Guard) SweepResults(ctx context.Context) ([]ClusterResult, error) {
	c, err := g.clients(ctx)
	if err != nil {
		return nil, err
	}
	names, err := g.clusters(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		g.Log.Info("no cluster to judge")
		return nil, nil
	}
	// The clusters share the account's reads, for this sweep only.
	shared := &assess.Shared{}
	results := make([]ClusterResult, len(names))
	var eg errgroup.Group
	eg.SetLimit(sweepConcurrency)
	for i, name := range names {
		eg.Go(func() error {
			results[i] = g.sweepCluster(ctx, c, name, shared)
			return nil
		})
	}
	_ = eg.Wait()
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			g.Log.Error("cluster skipped", "cluster", r.Cluster, "error", r.Err.Error())
		}
	}
	g.Log.Info("sweep done", "clusters", len(names), "failed", failed)
	if failed == len(names) {
		return results, fmt.Errorf("%w: %d of %d clusters could not be judged (first: %w)", ErrEveryClusterFailed, failed, len(names), results[0].Err)
	}
	return results, nil
}

// clusters are the names in CLUSTERS, or every cluster in the Region.
func (g *Guard) clusters(ctx context.Context, c *Clients) ([]string, error) {
	if len(g.Config.Clusters) > 0 {
		return g.Config.Clusters, nil
	}
	return inventory.ListClusters(ctx, c.Clusters)
}

func (g *Guard) sweepCluster(ctx context.Context, c *Clients, name string, shared *assess.Shared) ClusterResult {
	r := ClusterResult{Cluster: name}
	a, err := c.Session.Assess(ctx, assess.Query{Cluster: name, Now: g.now(), Catalog: g.catalog(), StuckAfter: DefaultStuckAfter, Shared: shared})
	if err != nil {
		r.Err = fmt.Errorf("assess cluster %s: %w", name, err)
		return r
	}
	r.Metrics = MetricsOf(a.Report)
	g.emit(name, r.Metrics)
	before, err := g.readState(ctx, c.SSM, name)
	if err != nil {
		r.Err = err
		return r
	}
	r.Findings = ErrorFindings(a.Report)
	// A placement failure an event notified stays in the set while doctor
	// still sees it in the services' events, so it is resolved only once.
	for _, f := range a.Report.Findings {
		if has, _ := before.has(key(f)); has && f.Check == doctor.CheckServiceEvents && f.Severity != doctor.Error {
			r.Findings = append(r.Findings, f)
		}
	}
	keys := make([]string, 0, len(r.Findings))
	n := Notification{Cluster: name, Account: a.Input.AccountID, Region: a.Input.Region}
	for _, f := range r.Findings {
		keys = append(keys, key(f))
		n.Findings = append(n.Findings, notified(f))
	}
	r.Notified, r.Err = g.notifyChange(ctx, c, n, before, stateOf(keys))
	return r
}

// ErrorFindings are the guard's findings for a cluster: doctor's error
// findings, in doctor's order.
func ErrorFindings(r doctor.Report) []doctor.Finding {
	var out []doctor.Finding
	for _, f := range r.Findings {
		if f.Severity == doctor.Error {
			out = append(out, f)
		}
	}
	return out
}

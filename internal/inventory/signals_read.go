package inventory

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"golang.org/x/sync/errgroup"
)

// DefaultOptInPages bounds the CloudTrail pages (of 50) read per event name.
const DefaultOptInPages = 4

// SignalQuery says which extra signals to read and bounds them.
type SignalQuery struct {
	Cluster string
	// Providers are the cluster's capacity providers (DescribeClusters'
	// capacityProviders) and those the container instances name.
	Providers []string
	// Services are services known already (names or ARNs); unless
	// ServicesListed says they are all of them, ListServices adds the rest
	// (those with no task running).
	Services       []string
	ServicesListed bool
	// Now is the local clock; EventsSince bounds services' events (default 3h).
	Now         time.Time
	EventsSince time.Duration
	// StoppedPages bounds the stopped tasks read, 100 a page (default 1).
	StoppedPages int
	// OptIn asks for CloudTrail's opt-in events: only worth it when some
	// instance lacks a trunk while its role is enabled. OptInPages bounds
	// the pages of 50 per event name (default 4).
	OptIn      bool
	OptInPages int
}

// SignalSet is what ReadSignals found. Each part has its own error: a part
// that could not be read leaves the others usable.
type SignalSet struct {
	Providers    map[string]CapacityProvider
	ProvidersErr error
	Groups       map[string]AutoScalingGroup
	GroupsErr    error
	// Templates by LaunchTemplateRef.Key.
	Templates    map[string]LaunchTemplateVersion
	TemplatesErr error
	// GroupSubnets are the subnets the groups launch into.
	GroupSubnets    map[string]Subnet
	GroupSubnetsErr error
	ServiceEvents   []ServiceEvent
	ServiceEventErr error
	StoppedTasks    []StoppedTask
	StoppedErr      error
	// OptInRead says whether CloudTrail was asked at all.
	OptInEvents []OptInEvent
	OptInRead   bool
	OptInErr    error
}

// ReadSignals reads the extra signals concurrently, each within the
// loader's bound: capacity providers, then their groups, launch templates
// and subnets; services' events; stopped tasks; and, when asked, CloudTrail.
// It returns an error only when ctx ends; read failures are in the set.
func (s *Signals) ReadSignals(ctx context.Context, q SignalQuery) (SignalSet, error) {
	if q.EventsSince <= 0 {
		q.EventsSince = 3 * time.Hour
	}
	if q.StoppedPages <= 0 {
		q.StoppedPages = 1
	}
	if q.OptInPages <= 0 {
		q.OptInPages = DefaultOptInPages
	}
	var out SignalSet
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		out.Providers, out.ProvidersErr = s.CapacityProviders(gctx, q.Providers)
		var groups []string
		for _, cp := range out.Providers {
			if n := cp.AutoScalingGroupName(); n != "" {
				groups = append(groups, n)
			}
		}
		if len(groups) == 0 {
			return nil
		}
		out.Groups, out.GroupsErr = s.AutoScalingGroups(gctx, groups)
		var refs []LaunchTemplateRef
		var subnets []string
		for _, g := range out.Groups {
			if g.LaunchTemplate != nil {
				refs = append(refs, *g.LaunchTemplate)
			}
			subnets = append(subnets, g.Subnets...)
		}
		sg, sgctx := errgroup.WithContext(gctx)
		sg.Go(func() error {
			t, err := s.LaunchTemplateVersions(sgctx, refs)
			mu.Lock()
			out.Templates, out.TemplatesErr = t, err
			mu.Unlock()
			return nil
		})
		sg.Go(func() error {
			if len(subnets) == 0 {
				return nil
			}
			sn, err := s.l.Subnets(sgctx, subnets)
			mu.Lock()
			out.GroupSubnets, out.GroupSubnetsErr = sn, err
			mu.Unlock()
			return nil
		})
		return sg.Wait()
	})
	g.Go(func() error {
		services := q.Services
		if !q.ServicesListed {
			var err error
			if services, err = s.serviceNames(gctx, q.Cluster, q.Services); err != nil {
				out.ServiceEventErr = err
				return nil
			}
		}
		if len(services) == 0 {
			return nil
		}
		out.ServiceEvents, out.ServiceEventErr = s.ServiceEvents(gctx, q.Cluster, services, q.Now.Add(-q.EventsSince))
		return nil
	})
	g.Go(func() error {
		out.StoppedTasks, out.StoppedErr = s.StoppedTasks(gctx, q.Cluster, q.StoppedPages)
		return nil
	})
	if q.OptIn {
		g.Go(func() error {
			out.OptInRead = true
			out.OptInEvents, out.OptInErr = s.OptInEvents(gctx, q.Now.Add(-CloudTrailWindow), q.OptInPages)
			return nil
		})
	}
	_ = g.Wait()
	return out, ctx.Err()
}

// serviceNames lists the cluster's services (100 a page) and adds those known.
func (s *Signals) serviceNames(ctx context.Context, cluster string, known []string) ([]string, error) {
	if s.ECS == nil {
		return nil, &MissingClientError{"ECS"}
	}
	names := append([]string(nil), known...)
	p := ecs.NewListServicesPaginator(s.ECS, &ecs.ListServicesInput{Cluster: aws.String(cluster), MaxResults: aws.Int32(MaxECSListPage)})
	for p.HasMorePages() {
		var page *ecs.ListServicesOutput
		if err := s.l.call(ctx, func() (err error) { page, err = p.NextPage(ctx); return err }); err != nil {
			return nil, fmt.Errorf("list services in %s: %w", cluster, err)
		}
		for _, arn := range page.ServiceArns {
			names = append(names, ResourceID(arn))
		}
	}
	return uniq(names), nil
}

// ServicesOfTasks returns the service names in tasks' groups ("service:NAME").
func ServicesOfTasks(tasks []Task) []string {
	var out []string
	for _, t := range tasks {
		if n, ok := strings.CutPrefix(t.Group, "service:"); ok {
			out = append(out, n)
		}
	}
	return uniq(out)
}

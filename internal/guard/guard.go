// Package guard is the read-only watcher behind dist/guard.zip: a Lambda
// driven by EventBridge that judges clusters with the same assessment and
// judge as `trunkctl doctor` (on a schedule), judges one container instance
// from an ECS state-change event alone (cheaply: these fire on every task
// placement), and notifies an SNS topic when a cluster's error findings
// change, keeping the last set it notified in an SSM parameter.
package guard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Environment variables (the contract of the deployed function).
const (
	EnvTopicArn    = "TOPIC_ARN"
	EnvClusters    = "CLUSTERS"
	EnvStatePrefix = "STATE_PREFIX"
	// DefaultStatePrefix is where the per-cluster state parameters live.
	DefaultStatePrefix = "/trunkctl/guard/"
	// DefaultStuckAfter is doctor's default for tasks stuck PROVISIONING.
	DefaultStuckAfter = 5 * time.Minute
	// sweepConcurrency bounds how many clusters are assessed at once (each
	// assessment runs its own reads concurrently).
	sweepConcurrency = 4
)

// Config is what the environment says.
type Config struct {
	// TopicArn is the SNS topic notified; empty: no notifications (the
	// state is still kept, and the metrics still written).
	TopicArn string
	// Clusters limits the guard to these cluster names (an ARN in CLUSTERS
	// is taken as its name); empty: every cluster in the Region.
	Clusters []string
	// StatePrefix prefixes the SSM parameter of each cluster.
	StatePrefix string
}

// ConfigFromEnv reads TOPIC_ARN, CLUSTERS and STATE_PREFIX.
func ConfigFromEnv(getenv func(string) string) Config {
	c := Config{TopicArn: strings.TrimSpace(getenv(EnvTopicArn)), StatePrefix: strings.TrimSpace(getenv(EnvStatePrefix))}
	if c.StatePrefix == "" {
		c.StatePrefix = DefaultStatePrefix
	}
	if !strings.HasSuffix(c.StatePrefix, "/") {
		c.StatePrefix += "/"
	}
	for _, name := range strings.Split(getenv(EnvClusters), ",") {
		// A cluster ARN names the same cluster as its name.
		if name = inventory.ResourceID(strings.TrimSpace(name)); name != "" {
			c.Clusters = append(c.Clusters, name)
		}
	}
	return c
}

// inScope says whether the guard watches cluster (a name).
func (c Config) inScope(cluster string) bool {
	if len(c.Clusters) == 0 {
		return true
	}
	for _, n := range c.Clusters {
		if n == cluster {
			return true
		}
	}
	return false
}

// SNSAPI is the one SNS call the guard makes.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SSMAPI is the state the guard keeps: one String parameter per cluster.
type SSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// Clients are the guard's readers and its two writers.
type Clients struct {
	// Session reads and judges a cluster; its resolver must never assume
	// instance roles (accountsetting.Resolver.NoAssume).
	Session  *assess.Session
	Clusters inventory.ClustersAPI
	SNS      SNSAPI
	SSM      SSMAPI
}

// Guard handles EventBridge events.
type Guard struct {
	Config Config
	// Clients connects on the first event that needs AWS; events that need
	// none (a trunked instance) never call it.
	Clients func(ctx context.Context) (*Clients, error)
	Catalog *catalog.Catalog
	Now     func() time.Time
	Log     *slog.Logger
	// Metrics receives one CloudWatch Embedded Metric Format line per judged
	// cluster (stdout in Lambda).
	Metrics io.Writer

	metricsMu sync.Mutex
}

// ErrEveryClusterFailed fails an invocation in which no cluster could be
// judged, so that EventBridge's retry and a dead-letter queue see it.
var ErrEveryClusterFailed = errors.New("every cluster failed")

// Handle routes one EventBridge event. It returns an error only for a real
// failure worth a retry (every cluster of a sweep failed, or the state or
// topic could not be written); an event it does not understand is logged
// and acknowledged.
func (g *Guard) Handle(ctx context.Context, raw json.RawMessage) error {
	var ev envelope
	if err := json.Unmarshal(raw, &ev); err != nil {
		g.Log.Warn("ignoring an event that is not an EventBridge event", "error", err.Error(), "bytes", len(raw))
		return nil
	}
	switch {
	case ev.Source == "aws.events" && ev.DetailType == "Scheduled Event":
		return g.Sweep(ctx)
	case ev.Source == "aws.ecs" && ev.DetailType == "ECS Container Instance State Change":
		return g.instanceChanged(ctx, ev)
	case ev.Source == "aws.ecs" && ev.DetailType == "ECS Service Action":
		return g.serviceAction(ctx, ev)
	}
	g.Log.Info("ignoring an event the guard does not handle", "source", ev.Source, "detailType", ev.DetailType)
	return nil
}

func (g *Guard) now() time.Time {
	if g.Now == nil {
		return time.Now()
	}
	return g.Now()
}

func (g *Guard) catalog() *catalog.Catalog {
	if g.Catalog == nil {
		return catalog.Default()
	}
	return g.Catalog
}

func (g *Guard) clients(ctx context.Context) (*Clients, error) {
	c, err := g.Clients(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to AWS: %w", err)
	}
	return c, nil
}

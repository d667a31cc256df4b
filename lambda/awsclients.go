package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
)

// awsClients loads the AWS configuration once per process and makes
// Region-bound clients from it, kept for the process's later events. It
// honours AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_ECS
// like every SDK client.
//
// Every client shares one HTTP client, so one pool of connections: the
// write as the assumed role goes out on the connection the principalArn
// write opened to the same ECS endpoint (on AWS, one TLS handshake fewer
// on the path CloudFormation waits on). Without it each SDK client builds
// its own transport.
type awsClients struct {
	mu      sync.Mutex
	cfg     *aws.Config
	regions map[string]regionClients
}

// Preload loads the configuration and makes region's clients in the
// background, so that the work overlaps the function's wait for its first
// event; the event waits for it on the lock. A failed load is not kept: the
// event that needs the clients loads again and reports the error.
func (c *awsClients) Preload(region string) {
	go func() {
		if region == "" {
			_, _ = c.config(context.Background())
			return
		}
		_, _ = c.forRegion(context.Background(), region)
	}()
}

func (c *awsClients) config(ctx context.Context) (aws.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loadLocked(ctx)
}

func (c *awsClients) loadLocked(ctx context.Context) (aws.Config, error) {
	if c.cfg != nil {
		return *c.cfg, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithHTTPClient(awshttp.NewBuildableClient()),
		config.WithRetryer(func() aws.Retryer {
			// Throttling, 5xx and connection errors are retried by the SDK; the
			// invocation deadline still bounds the whole call.
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 5
				o.MaxBackoff = 2 * time.Second
			})
		}))
	if err != nil {
		// Not cached: the next event tries again.
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	c.cfg = &cfg
	return cfg, nil
}

func (c *awsClients) forRegion(ctx context.Context, region string) (regionClients, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rc, ok := c.regions[region]; ok {
		return rc, nil
	}
	cfg, err := c.loadLocked(ctx)
	if err != nil {
		return regionClients{}, err
	}
	inRegion := func(o *ecs.Options) { o.Region = region }
	rc := regionClients{
		STS:    sts.NewFromConfig(cfg, func(o *sts.Options) { o.Region = region }),
		ECS:    ecs.NewFromConfig(cfg, inRegion),
		NewECS: accountsetting.NewECSFactory(cfg, inRegion),
		// IAM is global: its endpoint follows the partition of the Region.
		IAM: iam.NewFromConfig(cfg, func(o *iam.Options) { o.Region = region }),
	}
	if c.regions == nil {
		c.regions = map[string]regionClients{}
	}
	c.regions[region] = rc
	return rc, nil
}

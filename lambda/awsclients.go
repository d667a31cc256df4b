package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
)

// awsClients loads the AWS configuration once per process, on the first
// event that needs it (a Delete with OnDelete=retain never does), and makes
// Region-bound clients from it. It honours AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_ECS like every SDK client.
type awsClients struct {
	mu  sync.Mutex
	cfg *aws.Config
}

func (c *awsClients) config(ctx context.Context) (aws.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg != nil {
		return *c.cfg, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer {
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
	cfg, err := c.config(ctx)
	if err != nil {
		return regionClients{}, err
	}
	inRegion := func(o *ecs.Options) { o.Region = region }
	return regionClients{
		STS:    sts.NewFromConfig(cfg, func(o *sts.Options) { o.Region = region }),
		ECS:    ecs.NewFromConfig(cfg, inRegion),
		NewECS: accountsetting.NewECSFactory(cfg, inRegion),
		// IAM is global: its endpoint follows the partition of the Region.
		IAM: iam.NewFromConfig(cfg, func(o *iam.Options) { o.Region = region }),
	}, nil
}

package main

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/assess"
	"github.com/trunkctl/trunkctl/internal/awsclient"
	"github.com/trunkctl/trunkctl/internal/guard"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// awsClients loads the AWS configuration once per process, on the first
// event that needs AWS (a trunked instance's state change never does), and
// builds the guard's clients from it. Endpoints and retries come from the
// standard variables (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_ECS,
// AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL_SNS, AWS_MAX_ATTEMPTS, ...).
type awsClients struct {
	mu sync.Mutex
	c  *guard.Clients
}

func (a *awsClients) connect(ctx context.Context) (*guard.Clients, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.c != nil {
		return a.c, nil
	}
	cfg, err := awsclient.Load(ctx, awsclient.Options{})
	if err != nil {
		// Not cached: the next event tries again.
		return nil, err
	}
	c := awsclient.New(cfg)
	loader := inventory.NewLoader(c.ECS, c.EC2, c.IAM, inventory.DefaultConcurrency)
	stsc := &accountsetting.OnceCaller{STSAPI: c.STS}
	a.c = &guard.Clients{
		Session: &assess.Session{
			Region:  cfg.Region,
			Loader:  loader,
			Signals: loader.Signals(c.AutoScaling, c.CloudTrail),
			// Read-only: a role's setting is read with principalArn, never
			// by assuming the instance role.
			Roles: accountsetting.Resolver{STS: stsc, ECS: c.ECS, PrincipalArnFirst: true, NoAssume: true},
		},
		Clusters: c.ECS,
		SNS:      sns.NewFromConfig(cfg),
		SSM:      ssm.NewFromConfig(cfg),
	}
	return a.c, nil
}

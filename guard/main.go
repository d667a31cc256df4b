// Command guard is trunkctl's read-only watcher: a Lambda driven by
// EventBridge (a schedule, ECS container instance state changes, ECS
// service actions) that judges clusters as `trunkctl doctor` does and
// notifies an SNS topic when their error findings change. Built as
// "bootstrap" for the provided.al2023 runtime (dist/guard.zip); "go build
// -tags lambda.norpc ./guard" gives a host binary that speaks the Lambda
// Runtime API (AWS_LAMBDA_RUNTIME_API) for local tests.
package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/guard"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	clients := &awsClients{}
	g := &guard.Guard{
		Config:  guard.ConfigFromEnv(os.Getenv),
		Clients: clients.connect,
		Catalog: catalog.Default(),
		Now:     time.Now,
		Log:     log,
		// Lambda sends stdout to CloudWatch Logs, which turns EMF lines
		// into metrics without an API call.
		Metrics: os.Stdout,
	}
	lambda.Start(g.Handle)
}

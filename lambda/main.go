// Command lambda is the CloudFormation custom resource that opts an IAM role
// into an ECS account setting (awsvpcTrunking by default) by assuming the
// role and calling PutAccountSetting as it. Built as "bootstrap" for the
// provided.al2023 runtime; "go build ./lambda" gives a host binary that speaks
// the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API) for local tests.
package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/trunkctl/trunkctl/internal/contract"
)

const defaultPropagationWait = 90 * time.Second

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	wait, err := propagationWaitFromEnv(os.Getenv)
	if err != nil {
		// A bad setting must not stop the function from answering.
		log.Warn("ignoring invalid "+contract.PropagationWaitEnv, "error", err.Error(), "default", wait.String())
	}
	allowed := parseAllowlist(os.Getenv(contract.AllowedRolesEnv))
	if allowed.err != nil {
		log.Error("the allow-list is invalid: every Create and Update will fail", "error", allowed.err.Error())
	}
	region := cmp.Or(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))
	clients := &awsClients{}
	// Most events act in the function's own Region: its clients are made
	// while the runtime fetches the first event.
	clients.Preload(region)
	h := &Handler{
		Clients:         clients.forRegion,
		HTTP:            &http.Client{},
		Log:             log,
		DefaultRegion:   region,
		PropagationWait: wait,
		Allowed:         allowed,
	}
	lambda.Start(h.Handle)
}

// propagationWaitFromEnv reads contract.PropagationWaitEnv, returning the default
// (and an error to log) when it is not a non-negative duration.
func propagationWaitFromEnv(getenv func(string) string) (time.Duration, error) {
	s := getenv(contract.PropagationWaitEnv)
	if s == "" {
		return defaultPropagationWait, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return defaultPropagationWait, fmt.Errorf("%s=%q is not a non-negative Go duration such as 90s", contract.PropagationWaitEnv, s)
	}
	return d, nil
}

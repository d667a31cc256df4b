package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/trunkctl/trunkctl/internal/awsarn"
	"github.com/trunkctl/trunkctl/internal/contract"
)

// Allowlist is the optional narrowing of the roles the function acts for
// (contract.AllowedRolesEnv). The zero value allows every role of the
// function's own account.
type Allowlist struct {
	roles map[string]bool // canonical role ARNs; nil: no list
	err   error           // the variable did not parse: nothing is allowed
}

// parseAllowlist reads the variable's value: empty means no list; otherwise
// comma-separated role ARNs, each checked. A bad entry refuses every role
// (fail closed) rather than silently widening the list.
func parseAllowlist(s string) Allowlist {
	if strings.TrimSpace(s) == "" {
		return Allowlist{}
	}
	l := Allowlist{roles: map[string]bool{}}
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		r, err := awsarn.ParseRole(e)
		if err != nil {
			return Allowlist{err: fmt.Errorf("%s has an entry that is not a role ARN (%w): the function acts for no role until it is fixed", contract.AllowedRolesEnv, err)}
		}
		l.roles[r.String()] = true
	}
	return l
}

// NotPermittedError says the function refused to act for a role: it is in
// another account or partition, or not in the allow-list.
type NotPermittedError struct {
	Role awsarn.Role
	// FunctionArn is the invoked function's ARN ("" when unknown).
	FunctionArn string
	Reason      string
}

func (e *NotPermittedError) Error() string {
	return fmt.Sprintf("refusing to act for role %s: %s", e.Role, e.Reason)
}

// functionAccount is the partition and account of the invoked function, from
// the Lambda context: the only account whose roles it acts for.
func functionAccount(ctx context.Context) (partition, account, fnArn string, err error) {
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok || lc.InvokedFunctionArn == "" {
		return "", "", "", errors.New("the invocation carries no invoked function ARN, so the function cannot tell its own account")
	}
	a, err := arn.Parse(lc.InvokedFunctionArn)
	if err != nil || a.Service != "lambda" || len(a.AccountID) != 12 || strings.Trim(a.AccountID, "0123456789") != "" {
		return "", "", lc.InvokedFunctionArn, fmt.Errorf("the invoked function ARN %q is not a Lambda function ARN", clip(lc.InvokedFunctionArn))
	}
	return a.Partition, a.AccountID, lc.InvokedFunctionArn, nil
}

// authorize checks, before any AWS call, that the function may act for
// role: the role is in the function's own account (and partition) and, when
// an allow-list is set, on it.
func (h *Handler) authorize(ctx context.Context, role awsarn.Role) error {
	part, acct, fnArn, err := functionAccount(ctx)
	if err != nil {
		return &NotPermittedError{Role: role, FunctionArn: fnArn, Reason: err.Error()}
	}
	if role.AccountID != acct || role.Partition != part {
		return &NotPermittedError{Role: role, FunctionArn: fnArn, Reason: fmt.Sprintf(
			"the role is in account %s (partition %s) but this function runs in account %s (partition %s) and acts only for roles of its own account",
			role.AccountID, role.Partition, acct, part)}
	}
	if h.Allowed.err != nil {
		return &NotPermittedError{Role: role, FunctionArn: fnArn, Reason: h.Allowed.err.Error()}
	}
	if h.Allowed.roles != nil && !h.Allowed.roles[role.String()] {
		return &NotPermittedError{Role: role, FunctionArn: fnArn, Reason: fmt.Sprintf(
			"the role is not in the function's allow-list (%s, %d role(s)); the stack that made the function names the roles it manages",
			contract.AllowedRolesEnv, len(h.Allowed.roles))}
	}
	return nil
}

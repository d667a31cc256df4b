package accountsetting_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
)

// countingSTS answers GetCallerIdentity, failing the first fail calls.
type countingSTS struct {
	accountsetting.STSAPI
	calls, fail int
}

func (c *countingSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	c.calls++
	if c.calls <= c.fail {
		return nil, errors.New("connection reset")
	}
	return &sts.GetCallerIdentityOutput{Account: aws.String("123456789012"), Arn: aws.String("arn:aws:iam::123456789012:user/ops")}, nil
}

func TestOnceCallerAsksOnceAndDoesNotKeepAFailure(t *testing.T) {
	inner := &countingSTS{fail: 1}
	c := &accountsetting.OnceCaller{STSAPI: inner}
	r := accountsetting.Resolver{STS: c}
	if _, err := r.Who(context.Background()); err == nil {
		t.Fatal("the first call's failure was hidden")
	}
	for range 3 {
		c, err := r.Who(context.Background())
		if err != nil || c.Principal.AccountID != "123456789012" {
			t.Fatalf("caller %+v, %v", c, err)
		}
	}
	if inner.calls != 2 {
		t.Errorf("sts:GetCallerIdentity called %d times, want 2 (one failure, then one answer kept)", inner.calls)
	}
}

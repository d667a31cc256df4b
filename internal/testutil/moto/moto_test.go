package moto_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsarn"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
)

// The moto helper and the account-setting code work against the real wire
// protocol: assume a role, enable trunking as it, read it back, reset.
func TestAccountSettingAgainstMoto(t *testing.T) {
	m := moto.Start(t)
	m.Env(t)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	role, _ := awsarn.ParseRole("arn:aws:iam::123456789012:role/EcsInstanceRole")
	as := accountsetting.Assumer{STS: sts.NewFromConfig(cfg), NewECS: accountsetting.NewECSFactory(cfg), SessionName: "moto-test"}
	p, err := as.Assume(ctx, role)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Ensure(ctx, accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	if err != nil {
		t.Fatal(err)
	}
	if got.Value != "enabled" || got.Source != accountsetting.SourcePrincipal {
		t.Fatalf("got %+v", got)
	}

	m.Reset(t)
	out, err := ecs.NewFromConfig(cfg).ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{Name: "awsvpcTrunking"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Settings) != 0 {
		t.Fatalf("after reset moto still holds %v", aws.ToString(out.Settings[0].Value))
	}
}

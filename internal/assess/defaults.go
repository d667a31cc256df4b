package assess

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
)

// DefaultSetter writes the account default of a setting.
type DefaultSetter interface {
	PutAccountSettingDefault(ctx context.Context, in *ecs.PutAccountSettingDefaultInput, optFns ...func(*ecs.Options)) (*ecs.PutAccountSettingDefaultOutput, error)
}

// PutDefault sets the account default awsvpcTrunking=value for every
// principal of the account and Region without its own setting, and returns
// what ECS says it set.
func (s *Session) PutDefault(ctx context.Context, value string) (accountsetting.Setting, error) {
	if s.Defaults == nil {
		return accountsetting.Setting{}, errors.New("no ECS client to write the account default with")
	}
	out, err := s.Defaults.PutAccountSettingDefault(ctx, &ecs.PutAccountSettingDefaultInput{
		Name: ecstypes.SettingNameAwsvpcTrunking, Value: aws.String(value),
	})
	if err != nil {
		return accountsetting.Setting{}, fmt.Errorf("put account setting default awsvpcTrunking=%s: %w", value, err)
	}
	got := accountsetting.Setting{Name: accountsetting.AWSVPCTrunking, Value: value, Source: accountsetting.SourceDefault}
	if out.Setting != nil {
		got.Value, got.PrincipalArn = aws.ToString(out.Setting.Value), aws.ToString(out.Setting.PrincipalArn)
	}
	return got, nil
}

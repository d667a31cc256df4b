package cli

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trunkctl/trunkctl/internal/fleet"
)

// asWriter runs fn in each target with the write role's configuration
// (--write-role-name) instead of the read role's that fleet.Run hands out.
func asWriter[T any](f *fleet.Fleet, fn fleet.Func[T]) fleet.Func[T] {
	return func(ctx context.Context, t fleet.Target, _ aws.Config) (T, error) {
		return fn(ctx, t, f.WriteConfig(t.Account, t.Region))
	}
}

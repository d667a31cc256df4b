package fleet

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awserr"
)

// CallerName is the person or workload behind a caller ARN: an assumed
// role's session name (an IAM Identity Center user's e-mail, a CI job's id),
// an IAM or federated user's name, or "root".
func CallerName(callerARN string) string {
	a, err := arn.Parse(callerARN)
	if err != nil {
		return ""
	}
	return a.Resource[strings.LastIndex(a.Resource, "/")+1:]
}

// SessionNameFor is the role session name of trunkctl acting for who:
// "trunkctl" and the caller's name, as STS takes it
// (accountsetting.SessionName).
func SessionNameFor(who string) string {
	if who == "" {
		return SessionName
	}
	return accountsetting.SessionName(SessionName + "." + who)
}

// SourceIdentityFor is the SourceIdentity set on every assumed session: the
// caller's name, which STS keeps through role chaining and shows in
// CloudTrail whatever the later session names say. STS's characters leave
// no "aws:" (which it refuses at the start); a name shorter than its
// 2-character minimum gets trunkctl's prefix.
func SourceIdentityFor(who string) string {
	if len(who) < 2 {
		who = SessionName + "." + who
	}
	return accountsetting.SessionName(who)
}

// sourceIdentityFallback assumes a role with the caller's SourceIdentity and,
// when the role's trust policy does not allow sts:SetSourceIdentity (AWS
// Organizations' OrganizationAccountAccessRole does not), once more without
// it: the session name still names the caller.
type sourceIdentityFallback struct {
	next stscreds.AssumeRoleAPIClient
}

func (c sourceIdentityFallback) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	out, err := c.next.AssumeRole(ctx, in, optFns...)
	if err != nil && in.SourceIdentity != nil && awserr.IsSourceIdentityDenied(err) {
		again := *in
		again.SourceIdentity = nil
		return c.next.AssumeRole(ctx, &again, optFns...)
	}
	return out, err
}

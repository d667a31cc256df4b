package fleet

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/awserr"
)

// stsNameLimit is the most characters STS takes in a role session name
// and in a SourceIdentity.
const stsNameLimit = 64

// CallerName is the person or workload behind a caller ARN: an assumed
// role's session name (an IAM Identity Center user's e-mail, a CI job's id),
// an IAM or federated user's name, or "root".
func CallerName(callerARN string) string {
	a, err := arn.Parse(callerARN)
	if err != nil {
		return ""
	}
	parts := strings.Split(a.Resource, "/")
	switch {
	case parts[0] == "root":
		return "root"
	case parts[0] == "assumed-role" && len(parts) >= 3:
		return parts[len(parts)-1]
	default:
		return parts[len(parts)-1]
	}
}

// SessionNameFor is the role session name of trunkctl acting for who:
// "trunkctl" and the caller's name, in STS's character set
// ([\w+=,.@-]), cut to its 64-character limit.
func SessionNameFor(who string) string {
	if who = stsChars(who); who == "" {
		return SessionName
	}
	return truncate(SessionName+"."+who, stsNameLimit)
}

// SourceIdentityFor is the SourceIdentity set on every assumed session: the
// caller's name, which STS keeps through role chaining and shows in
// CloudTrail whatever the later session names say.
func SourceIdentityFor(who string) string {
	who = stsChars(who)
	if strings.HasPrefix(strings.ToLower(who), "aws:") || len(who) < 2 {
		who = SessionName + "." + who
	}
	return truncate(who, stsNameLimit)
}

// stsChars replaces every character STS refuses in a session name with "-".
func stsChars(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("_+=,.@-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] // ASCII only after stsChars
	}
	return s
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

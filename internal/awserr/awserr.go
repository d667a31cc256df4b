// Package awserr classifies AWS API errors in one place, by smithy error code,
// so the rest of trunkctl never string-matches error messages.
package awserr

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
)

// code returns the AWS error code of err ("" when err is not an API error).
func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Message returns the API error's message, or err.Error() for other errors.
func Message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if m := ae.ErrorMessage(); m != "" {
			return m
		}
		return ae.ErrorCode()
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func codeIn(err error, codes ...string) bool {
	c := code(err)
	if c == "" {
		return false
	}
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}

// IsAccessDenied reports an authorization failure (IAM, STS, ECS or EC2 spelling).
func IsAccessDenied(err error) bool {
	return codeIn(err, "AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
		"AuthorizationError", "UnauthorizedException", "NotAuthorized")
}

// IsSourceIdentityDenied reports an AssumeRole refused only because the
// role's trust policy does not allow sts:SetSourceIdentity (STS says which
// action it refused in the message; there is no code of its own).
func IsSourceIdentityDenied(err error) bool {
	return IsAccessDenied(err) && strings.Contains(Message(err), "sts:SetSourceIdentity")
}

// IsNotFound reports that the named thing does not exist.
func IsNotFound(err error) bool {
	return codeIn(err, "NoSuchEntity", "NoSuchEntityException", "ClusterNotFoundException",
		"NotFoundException", "ResourceNotFoundException", "InvalidInstanceID.NotFound",
		"InvalidNetworkInterfaceID.NotFound", "InvalidSubnetID.NotFound", "InvalidAMIID.NotFound")
}

// IsParameterNotFound reports SSM's ParameterNotFound (a parameter never written).
func IsParameterNotFound(err error) bool { return codeIn(err, "ParameterNotFound") }

// IsClusterNotFound reports ECS's ClusterNotFoundException.
func IsClusterNotFound(err error) bool { return codeIn(err, "ClusterNotFoundException") }

// IsInvalidParameter reports a request ECS refused as malformed; ECS answers
// a principalArn the caller may not name this way.
func IsInvalidParameter(err error) bool {
	return codeIn(err, "InvalidParameterException", "ClientException")
}

// IsThrottle reports throttling that outlasted the SDK's retryer.
func IsThrottle(err error) bool {
	return codeIn(err, "Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
		"Client.RequestLimitExceeded", "SlowDown")
}

// IsExpiredCredentials reports credentials that are invalid or expired.
func IsExpiredCredentials(err error) bool {
	return codeIn(err, "ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId",
		"UnrecognizedClientException", "InvalidToken", "AuthFailure", "SignatureDoesNotMatch")
}

// IsUnrecognizedCredentials reports credentials the service does not know:
// ECS, STS and EC2 answer so for expired or invalid ones, and also for
// assumed-role session credentials used in a Region the account has not
// enabled.
func IsUnrecognizedCredentials(err error) bool {
	return codeIn(err, "UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure")
}

// IsRegionDisabled reports a call into a Region the account has not enabled
// (an opt-in Region): EC2 answers OptInRequired, STS RegionDisabledException.
func IsRegionDisabled(err error) bool {
	return codeIn(err, "OptInRequired", "RegionDisabledException")
}

// Package awserr classifies AWS API errors in one place, by smithy error code,
// so the rest of trunkctl never string-matches error messages.
package awserr

import (
	"context"
	"errors"
	"net"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Code returns the AWS error code of err ("" when err is not an API error).
func Code(err error) string {
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
	c := Code(err)
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

// IsThrottle reports throttling, which the SDK's retryer normally absorbs.
func IsThrottle(err error) bool {
	return codeIn(err, "Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
		"Client.RequestLimitExceeded", "SlowDown")
}

// IsNotFound reports that the named thing does not exist.
func IsNotFound(err error) bool {
	return codeIn(err, "NoSuchEntity", "NoSuchEntityException", "ClusterNotFoundException",
		"NotFoundException", "ResourceNotFoundException", "InvalidInstanceID.NotFound",
		"InvalidNetworkInterfaceID.NotFound", "InvalidSubnetID.NotFound", "InvalidAMIID.NotFound")
}

// IsInvalidParameter reports a request ECS or EC2 refused as malformed.
func IsInvalidParameter(err error) bool {
	return codeIn(err, "InvalidParameterException", "InvalidParameterValue", "ValidationError",
		"ValidationException", "ClientException", "InvalidParameterCombination")
}

// IsExpiredCredentials reports credentials that are missing, invalid or expired.
func IsExpiredCredentials(err error) bool {
	return codeIn(err, "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
		"UnrecognizedClientException", "InvalidToken", "AuthFailure", "SignatureDoesNotMatch")
}

// IsServerError reports a 5xx answer from the service.
func IsServerError(err error) bool {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultServer
}

// IsTimeout reports a cancelled or timed-out call.
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// IsRegionDisabled reports a call into a Region the account has not enabled
// (an opt-in Region): EC2 answers OptInRequired, STS RegionDisabledException.
func IsRegionDisabled(err error) bool {
	return codeIn(err, "OptInRequired", "RegionDisabledException")
}

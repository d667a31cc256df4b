package awserr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func apiErr(code string) error {
	return fmt.Errorf("operation error ECS: PutAccountSetting: %w", &smithy.GenericAPIError{Code: code, Message: "msg " + code})
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		is   func(error) bool
		want bool
	}{
		{"an STS AccessDenied is access denied", apiErr("AccessDenied"), IsAccessDenied, true},
		{"an ECS AccessDeniedException is access denied", apiErr("AccessDeniedException"), IsAccessDenied, true},
		{"an EC2 UnauthorizedOperation is access denied", apiErr("UnauthorizedOperation"), IsAccessDenied, true},
		{"a throttle is not access denied", apiErr("ThrottlingException"), IsAccessDenied, false},
		{"a plain error is not access denied", errors.New("AccessDenied"), IsAccessDenied, false},
		{"ECS throttling is a throttle", apiErr("ThrottlingException"), IsThrottle, true},
		{"EC2 RequestLimitExceeded is a throttle", apiErr("RequestLimitExceeded"), IsThrottle, true},
		{"NoSuchEntity is not found", apiErr("NoSuchEntity"), IsNotFound, true},
		{"ClusterNotFoundException is not found", apiErr("ClusterNotFoundException"), IsNotFound, true},
		{"InvalidParameterException is invalid", apiErr("InvalidParameterException"), IsInvalidParameter, true},
		{"ExpiredToken is expired credentials", apiErr("ExpiredToken"), IsExpiredCredentials, true},
		{"EC2 OptInRequired is a disabled Region", apiErr("OptInRequired"), IsRegionDisabled, true},
		{"STS RegionDisabledException is a disabled Region", apiErr("RegionDisabledException"), IsRegionDisabled, true},
		{"access denied is not a disabled Region", apiErr("AccessDenied"), IsRegionDisabled, false},
		{"a wrapped deadline is a timeout", fmt.Errorf("x: %w", context.DeadlineExceeded), IsTimeout, true},
		{"a 503 response is a server error", &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 503}}, Err: errors.New("x")}, IsServerError, true},
		{"a server-fault API error is a server error", &smithy.GenericAPIError{Code: "ServerException", Fault: smithy.FaultServer}, IsServerError, true},
		{"a 400 response is not a server error", &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}}, Err: errors.New("x")}, IsServerError, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.is(tt.err); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	if Code(apiErr("X")) != "X" || Message(apiErr("X")) != "msg X" || Message(errors.New("e")) != "e" || Code(nil) != "" {
		t.Fatal("Code/Message do not unwrap")
	}
}

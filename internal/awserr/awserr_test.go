package awserr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"
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
		{"NoSuchEntity is not found", apiErr("NoSuchEntity"), IsNotFound, true},
		{"ClusterNotFoundException is not found", apiErr("ClusterNotFoundException"), IsNotFound, true},
		{"ClusterNotFoundException is a missing cluster", apiErr("ClusterNotFoundException"), IsClusterNotFound, true},
		{"a missing role is not a missing cluster", apiErr("NoSuchEntity"), IsClusterNotFound, false},
		{"a message naming the exception is not a missing cluster", errors.New("ClusterNotFoundException"), IsClusterNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.is(tt.err); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	if code(apiErr("X")) != "X" || Message(apiErr("X")) != "msg X" || Message(errors.New("e")) != "e" || code(nil) != "" {
		t.Fatal("code/Message do not unwrap")
	}
}

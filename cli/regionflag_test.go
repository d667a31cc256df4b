package cli

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRegionFlagsAreCheckedByShapeAndPartitionBeforeAnyAWSCall(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		usage   string // "" when the flags pass
		reached bool   // AWS was asked
	}{
		{"a made-up --region is a usage error", []string{"status", "--role", "r", "--region", "mars"}, `--region "mars" is not a Region name`, false},
		{"a --region without its number is a usage error", []string{"status", "--role", "r", "--region", "us-east"}, `--region "us-east" is not a Region name`, false},
		{"a made-up --regions is a usage error", []string{"status", "--role", "r", "--regions", "mars-1"}, `"mars-1" is not an AWS Region name`, false},
		{"--regions of two partitions is a usage error", []string{"status", "--role", "r", "--regions", "us-east-1,cn-north-1"}, "one set of credentials reaches one partition", false},
		{"--region and --regions of two partitions is a usage error", []string{"status", "--role", "r", "--region", "cn-north-1", "--regions", "us-east-1"}, "one set of credentials reaches one partition", false},
		{"a Region newer than the SDK passes (mx-central-1)", []string{"status", "--role", "r", "--region", "mx-central-1"}, "", true},
		{"a Region newer than the SDK passes (ap-southeast-7)", []string{"status", "--role", "r", "--region", "ap-southeast-7"}, "", true},
		{"a GovCloud Region passes", []string{"status", "--role", "r", "--region", "us-gov-west-1"}, "", true},
		{"the European Sovereign Cloud passes", []string{"status", "--role", "r", "--region", "eusc-de-east-1"}, "", true},
		{"--regions of one partition pass", []string{"status", "--role", "r", "--region", "cn-north-1", "--regions", "cn-north-1,cn-northwest-1"}, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _, errOut := streams(false)
			reached := false
			stop := errors.New("stop here")
			deps := Deps{IO: s,
				AWS:   func(context.Context, GlobalOptions, io.Writer) (*AWS, error) { reached = true; return nil, stop },
				Fleet: func(context.Context, GlobalOptions, io.Writer) (*FleetAWS, error) { reached = true; return nil, stop },
			}
			code := Run(context.Background(), tt.args, deps)
			if tt.usage != "" {
				if code != ExitUsage || !strings.Contains(errOut.String(), tt.usage) {
					t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, errOut, tt.usage)
				}
			} else if code != ExitError || !strings.Contains(errOut.String(), "stop here") {
				t.Fatalf("exit %d, stderr:\n%s\nwant the flags to pass", code, errOut)
			}
			if reached != tt.reached {
				t.Fatalf("AWS asked: %v, want %v", reached, tt.reached)
			}
		})
	}
}

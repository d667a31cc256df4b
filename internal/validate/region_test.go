package validate_test

import (
	"testing"

	"github.com/trunkctl/trunkctl/internal/validate"
)

func TestRegionPartitionGoesByShapeAndPrefixNotByAList(t *testing.T) {
	for _, tt := range []struct {
		region, partition string
	}{
		{"us-east-1", "aws"},
		{"mx-central-1", "aws"},
		{"ap-southeast-7", "aws"},
		{"cn-northwest-1", "aws-cn"},
		{"us-gov-east-1", "aws-us-gov"},
		{"us-iso-east-1", "aws-iso"},
		{"us-isob-east-1", "aws-iso-b"},
		{"eu-isoe-west-1", "aws-iso-e"},
		{"eusc-de-east-1", "aws-eusc"},
		{"mars", ""},
		{"mars-1", ""},
		{"us-east", ""},
		{"US-EAST-1", ""},
		{"abcd-east-1", ""},
	} {
		got, ok := validate.RegionPartition(tt.region)
		if got != tt.partition || ok != (tt.partition != "") {
			t.Errorf("RegionPartition(%q) = %q, %v; want %q", tt.region, got, ok, tt.partition)
		}
	}
}

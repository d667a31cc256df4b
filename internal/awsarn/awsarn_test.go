package awsarn

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRole(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Role
		wantErr string
	}{
		{name: "a plain role in the aws partition parses", in: "arn:aws:iam::123456789012:role/ecsInstanceRole",
			want: Role{Partition: "aws", AccountID: "123456789012", Path: "/", Name: "ecsInstanceRole"}},
		{name: "a role with a path keeps the path", in: "arn:aws:iam::123456789012:role/service-role/team/Ec2Role",
			want: Role{Partition: "aws", AccountID: "123456789012", Path: "/service-role/team/", Name: "Ec2Role"}},
		{name: "the China partition is accepted", in: "arn:aws-cn:iam::123456789012:role/r",
			want: Role{Partition: "aws-cn", AccountID: "123456789012", Path: "/", Name: "r"}},
		{name: "the GovCloud partition is accepted", in: "arn:aws-us-gov:iam::123456789012:role/r+=,.@_-",
			want: Role{Partition: "aws-us-gov", AccountID: "123456789012", Path: "/", Name: "r+=,.@_-"}},
		{name: "an empty string is rejected", in: "", wantErr: "empty"},
		{name: "an unknown partition is rejected", in: "arn:aws-iso:iam::123456789012:role/r", wantErr: "partition"},
		{name: "a non-IAM service is rejected", in: "arn:aws:sts::123456789012:role/r", wantErr: "service"},
		{name: "a Region is rejected", in: "arn:aws:iam:us-east-1:123456789012:role/r", wantErr: "Region"},
		{name: "a short account is rejected", in: "arn:aws:iam::12345:role/r", wantErr: "12 digits"},
		{name: "a user ARN is rejected", in: "arn:aws:iam::123456789012:user/bob", wantErr: "role/NAME"},
		{name: "a role name with a space is rejected", in: "arn:aws:iam::123456789012:role/my role", wantErr: "role name"},
		{name: "a role name over 64 characters is rejected", in: "arn:aws:iam::123456789012:role/" + strings.Repeat("a", 65), wantErr: "role name"},
		{name: "an empty role name is rejected", in: "arn:aws:iam::123456789012:role/", wantErr: "role name"},
		{name: "an empty path segment is rejected", in: "arn:aws:iam::123456789012:role/a//b", wantErr: "path"},
		{name: "a bare role name is rejected", in: "ecsInstanceRole", wantErr: "form"},
		{name: "surrounding white space is rejected", in: " arn:aws:iam::123456789012:role/r", wantErr: "white space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRole(tt.in)
			if tt.wantErr != "" {
				var aerr *Error
				if !errors.As(err, &aerr) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRole(%q) error = %v, want one mentioning %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRole(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseRole(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if got.String() != tt.in {
				t.Fatalf("String() = %q, want the input back", got.String())
			}
		})
	}
}

func TestRoleHelpers(t *testing.T) {
	r, err := RoleFromName("aws-cn", "123456789012", "team/app")
	if err != nil {
		t.Fatal(err)
	}
	if r.String() != "arn:aws-cn:iam::123456789012:role/team/app" || r.RootARN() != "arn:aws-cn:iam::123456789012:root" {
		t.Fatalf("got %s and %s", r, r.RootARN())
	}
	if PartitionForRegion("cn-north-1") != "aws-cn" || PartitionForRegion("us-gov-west-1") != "aws-us-gov" || PartitionForRegion("eu-west-1") != "aws" {
		t.Fatal("PartitionForRegion maps a Region to the wrong partition")
	}
	if DNSSuffix("aws-cn") != "amazonaws.com.cn" || DNSSuffix("aws") != "amazonaws.com" {
		t.Fatal("DNSSuffix is wrong")
	}
}

func TestParsePrincipal(t *testing.T) {
	role, _ := ParseRole("arn:aws:iam::123456789012:role/path/ecs")
	tests := []struct {
		name     string
		in       string
		kind     PrincipalKind
		isRole   bool
		wantFail bool
	}{
		{name: "the root user is recognised", in: "arn:aws:iam::123456789012:root", kind: KindRoot},
		{name: "a session of the role is that role", in: "arn:aws:sts::123456789012:assumed-role/ecs/i-0abc", kind: KindAssumedRole, isRole: true},
		{name: "a session of another role is not", in: "arn:aws:sts::123456789012:assumed-role/other/s", kind: KindAssumedRole},
		{name: "a session in another account is not", in: "arn:aws:sts::210987654321:assumed-role/ecs/s", kind: KindAssumedRole},
		{name: "an IAM user is a user", in: "arn:aws:iam::123456789012:user/ops/alice", kind: KindUser},
		{name: "a federated user is other", in: "arn:aws:sts::123456789012:federated-user/bob", kind: KindOther},
		{name: "garbage is an error", in: "nope", wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePrincipal(tt.in)
			if tt.wantFail {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != tt.kind || p.IsRole(role) != tt.isRole {
				t.Fatalf("got kind %v isRole %v", p.Kind, p.IsRole(role))
			}
		})
	}
}

func TestParseInstanceProfile(t *testing.T) {
	p, err := ParseInstanceProfile("arn:aws:iam::123456789012:instance-profile/a/b/Prof")
	if err != nil || p.Name != "Prof" || p.Path != "/a/b/" || p.AccountID != "123456789012" {
		t.Fatalf("got %+v, %v", p, err)
	}
	for _, bad := range []string{"arn:aws:iam::123456789012:role/x", "arn:aws:iam::123456789012:instance-profile/", "x"} {
		if _, err := ParseInstanceProfile(bad); err == nil {
			t.Errorf("ParseInstanceProfile(%q) accepted", bad)
		}
	}
}

func FuzzParseRole(f *testing.F) {
	for _, s := range []string{"arn:aws:iam::123456789012:role/r", "arn:aws-cn:iam::123456789012:role/a/b/c", "arn:aws:iam::1:role/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRole(s)
		if err != nil {
			return
		}
		// Whatever parses renders back to itself and parses again to the same value.
		if r.String() != s {
			t.Fatalf("String() = %q for input %q", r.String(), s)
		}
		r2, err := ParseRole(r.String())
		if err != nil || r2 != r {
			t.Fatalf("round trip of %q: %+v, %v", s, r2, err)
		}
	})
}

func TestValidRegionAcceptsRegionNamesOnly(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"us-east-1", true},
		{"eu-central-2", true},
		{"us-gov-west-1", true},
		{"cn-north-1", true},
		{"ap-southeast-12", true},
		{"", false},
		{"US East", false},
		{"us-east", false},
		{"us-east-123", false},
		{"useast-1", false},
		{"us--1", false},
		{"us-East-1", false},
	} {
		if got := ValidRegion(tt.in); got != tt.want {
			t.Errorf("ValidRegion(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

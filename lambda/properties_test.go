package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/trunkctl/trunkctl/internal/contract"
)

func TestPhysicalIDDependsOnlyOnSettingAndRole(t *testing.T) {
	base := props("RoleArn", roleARN)
	same := []map[string]any{
		props("RoleArn", roleARN, "Value", "disabled"),
		props("RoleArn", roleARN, "Region", "eu-west-1", "OnDelete", "disable"),
		props("EC2Role", roleARN),
		props("RoleArn", roleARN, "Setting", "awsvpcTrunking"),
	}
	different := []map[string]any{
		props("RoleArn", otherARN),
		props("RoleArn", roleARN, "Setting", "containerInsights"),
	}
	id := func(m map[string]any) string {
		p, err := parseProperties(m)
		if err != nil {
			t.Fatal(err)
		}
		return p.physicalID()
	}
	want := id(base)
	if want != ourID {
		t.Fatalf("physical id = %q, want %q", want, ourID)
	}
	for _, m := range same {
		if got := id(m); got != want {
			t.Errorf("%v: physical id %q, want %q (an in-place update)", m, got, want)
		}
	}
	for _, m := range different {
		if got := id(m); got == want {
			t.Errorf("%v: physical id unchanged, want a replacement", m)
		}
	}
}

func TestCreateFailedIDIsDeterministicAndNeverOurs(t *testing.T) {
	a := createFailedID(props("RoleArn", "garbage"))
	if b := createFailedID(props("RoleArn", "garbage", "OnDelete", "disable")); a != b {
		t.Errorf("create-failed id changed with OnDelete: %q vs %q", a, b)
	}
	if a == createFailedID(props("RoleArn", "other garbage")) {
		t.Errorf("different roles share a create-failed id")
	}
	if !isCreateFailedID(a) || isCreateFailedID(ourID) {
		t.Errorf("isCreateFailedID confuses %q and %q", a, ourID)
	}
}

func TestParsePropertiesDefaults(t *testing.T) {
	p, err := parseProperties(props("RoleArn", roleARN))
	if err != nil {
		t.Fatal(err)
	}
	if p.Setting != "awsvpcTrunking" || p.Value != "enabled" || p.OnDelete != "retain" || p.Region != "" {
		t.Errorf("defaults = %+v", p)
	}
	var pe *PropertyError
	if _, err := parseProperties(props("RoleArn", roleARN, "Region", "US East")); !errors.As(err, &pe) || pe.Property != "Region" {
		t.Errorf("a malformed Region gives %v, want a PropertyError naming Region", err)
	}
}

// FuzzParseProperties feeds arbitrary ResourceProperties JSON through the
// parser and the response encoder: no panics, valid ids, bodies under 4 KB.
func FuzzParseProperties(f *testing.F) {
	f.Add(`{"ServiceToken":"arn:aws:lambda:us-east-1:123456789012:function:f","RoleArn":"arn:aws:iam::123456789012:role/EcsInstance"}`)
	f.Add(`{"EC2Role":"arn:aws-cn:iam::123456789012:role/a/b/c","Region":"cn-north-1","OnDelete":"disable"}`)
	f.Add(`{"RoleArn":"arn:aws:iam::123456789012:role/x","EC2Role":"arn:aws:iam::123456789012:role/y"}`)
	f.Add(`{"RoleArn":1,"Value":true,"Setting":["a"]}`)
	f.Add(`{"RoleArn":"arn:aws:iam::123456789012:role/x","Setting":"containerInsights","Value":"enhanced"}`)
	f.Fuzz(func(t *testing.T, in string) {
		var raw map[string]any
		if json.Unmarshal([]byte(in), &raw) != nil {
			return
		}
		p, err := parseProperties(raw)
		if err == nil {
			id := p.physicalID()
			if !strings.HasPrefix(id, physicalPrefix) || isCreateFailedID(id) || len(id) > 1024 {
				t.Fatalf("bad physical id %q", id)
			}
			if again, err := parseProperties(raw); err != nil || again.physicalID() != id {
				t.Fatalf("parsing is not deterministic")
			}
			if p.Value == "" || p.Setting == "" || !p.OnDelete.Valid() {
				t.Fatalf("incomplete properties %+v", p)
			}
		} else {
			var pe *PropertyError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a PropertyError: %v", err)
			}
		}
		fid := createFailedID(raw)
		if !isCreateFailedID(fid) || len(fid) > 1024 || fid != createFailedID(raw) {
			t.Fatalf("bad create-failed id %q", fid)
		}
		reason := ""
		if err != nil {
			reason = err.Error()
		}
		body := encodeResponse(cfn.Response{Status: cfn.StatusFailed, StackID: stackID, RequestID: "r", LogicalResourceID: "L", PhysicalResourceID: fid, Reason: reason + reason + reason})
		if len(body) > maxBody || !json.Valid(body) || !utf8.Valid(body) {
			t.Fatalf("bad response body (%d bytes)", len(body))
		}
	})
}

func TestPropagationWaitComesFromTheEnvironmentWithASafeDefault(t *testing.T) {
	for _, tt := range []struct {
		env     string
		want    time.Duration
		wantErr bool
	}{
		{"", defaultPropagationWait, false},
		{"3s", 3 * time.Second, false},
		{"0s", 0, false},
		{"-1s", defaultPropagationWait, true},
		{"ninety", defaultPropagationWait, true},
	} {
		got, err := propagationWaitFromEnv(func(k string) string {
			if k == contract.PropagationWaitEnv {
				return tt.env
			}
			return ""
		})
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s=%q: got %s, %v; want %s, error %v", contract.PropagationWaitEnv, tt.env, got, err, tt.want, tt.wantErr)
		}
	}
}

// The properties an unknown-property error lists come from the struct
// alone: every json name a template may set, none of CloudFormation's own.
func TestUnknownPropertyErrorListsTheStructsProperties(t *testing.T) {
	_, err := parseProperties(map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/r", "Ondelete": "disable"})
	if err == nil {
		t.Fatal("an unknown property was accepted")
	}
	typ := reflect.TypeFor[rawProperties]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		listed := strings.Contains(err.Error(), name)
		if want := f.Tag.Get("sender") == ""; listed != want {
			t.Errorf("%s listed: %v, want %v: %v", name, listed, want, err)
		}
	}
}

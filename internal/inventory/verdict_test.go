package inventory_test

import (
	"strings"
	"testing"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

func TestJudgeGivesOneVerdictPerSituation(t *testing.T) {
	cat := catalog.Default()
	base := inventory.ContainerInstance{Status: "ACTIVE", InstanceType: "c5.large", AgentVersion: "1.80.0", OSType: "linux"}
	with := func(f func(*inventory.ContainerInstance)) inventory.ContainerInstance { c := base; f(&c); return c }
	tests := []struct {
		name    string
		ci      inventory.ContainerInstance
		want    inventory.VerdictCode
		healthy bool
	}{
		{"an instance with a trunk is ok", with(func(c *inventory.ContainerInstance) { c.TrunkENI = "eni-1" }), inventory.VerdictOK, true},
		{"an active supported instance without a trunk must be replaced", base, inventory.VerdictNoTrunk, false},
		{"an unsupported type is said so before the missing trunk", with(func(c *inventory.ContainerInstance) { c.InstanceType = "c5n.large" }), inventory.VerdictUnsupportedType, false},
		{"a type neither source knows is unknown", with(func(c *inventory.ContainerInstance) { c.InstanceType = "zz9.huge" }), inventory.VerdictUnknownType, false},
		{"a newer trunk-capable type without a trunk is judged like a supported one", with(func(c *inventory.ContainerInstance) { c.InstanceType = "m7i.xlarge" }), inventory.VerdictNoTrunk, false},
		{"a trunk on a type with an unpublished limit is ok", with(func(c *inventory.ContainerInstance) { c.InstanceType = "m7i.xlarge"; c.TrunkENI = "eni-1" }), inventory.VerdictOK, true},
		{"an agent older than 1.28.1 is too old", with(func(c *inventory.ContainerInstance) { c.AgentVersion = "1.28.0" }), inventory.VerdictAgentTooOld, false},
		{"agent 1.28.1 is new enough here", with(func(c *inventory.ContainerInstance) { c.AgentVersion = "1.28.1"; c.TrunkENI = "eni-1" }), inventory.VerdictOK, true},
		{"a failed registration carries the reason", with(func(c *inventory.ContainerInstance) {
			c.Status = "REGISTRATION_FAILED"
			c.StatusReason = "Unexpected EC2 error"
		}), inventory.VerdictRegistrationFailed, false},
		{"a registering instance may still get its trunk", with(func(c *inventory.ContainerInstance) { c.Status = "REGISTERING" }), inventory.VerdictRegistering, true},
		{"Windows never trunks", with(func(c *inventory.ContainerInstance) { c.OSType = "windows" }), inventory.VerdictWindows, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := inventory.Judge(tt.ci, cat.Lookup(tt.ci.InstanceType))
			if v.Code != tt.want || v.Healthy != tt.healthy || v.Message == "" {
				t.Fatalf("verdict = %+v, want %s (healthy %v)", v, tt.want, tt.healthy)
			}
		})
	}
}

func TestCompareVersionsOrdersDottedNumbers(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.28.1", "1.28.1", 0}, {"1.28.0", "1.28.1", -1}, {"1.29.1", "1.28.1", 1},
		{"1.100.0", "1.29.1", 1}, {"v1.28.1", "1.28.1", 0}, {"1.28", "1.28.1", -1}, {"1.30.0-beta", "1.29.1", 1},
	}
	for _, tt := range tests {
		if got := inventory.CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestUsageTakesTheLimitThatAppliesToTheInstance(t *testing.T) {
	it := catalog.Default().Lookup("c5.large")
	if u := inventory.UsageOf(inventory.ContainerInstance{TrunkENI: "eni-1"}, it, 3); u.Limit != 10 || u.AWSVPCTasks != 3 {
		t.Fatalf("trunked usage = %+v, want limit 10", u)
	}
	if u := inventory.UsageOf(inventory.ContainerInstance{}, it, 1); u.Limit != 2 {
		t.Fatalf("untrunked usage = %+v, want limit 2", u)
	}
}

func FuzzCompareVersions(f *testing.F) {
	for _, s := range []string{"1.28.1", "v1.29.1", "1.30.0-beta+x", "", "..", "1.a.3", "99999999999999999999.1"} {
		f.Add(s, "1.28.1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := inventory.CompareVersions(a, b), inventory.CompareVersions(b, a)
		if ab != -ba {
			t.Fatalf("CompareVersions(%q, %q) = %d but reversed = %d", a, b, ab, ba)
		}
		if inventory.CompareVersions(a, a) != 0 {
			t.Fatalf("%q does not equal itself", a)
		}
	})
}

func TestJudgeWithRoleSaysWhyAnInstanceHasNoTrunk(t *testing.T) {
	it := catalog.Default().Lookup("c5.large")
	ci := inventory.ContainerInstance{Status: "ACTIVE", InstanceType: "c5.large", AgentVersion: "1.80.0"}
	arn := "arn:aws:iam::123456789012:role/EcsInstanceRole"
	if v := inventory.JudgeWithRole(ci, it, &inventory.RoleOptIn{RoleArn: arn, Enabled: true}); v.Code != inventory.VerdictNoTrunk || !strings.Contains(v.Message, "role EcsInstanceRole is enabled now: registered before the opt-in") {
		t.Fatalf("enabled role: %+v", v)
	}
	if v := inventory.JudgeWithRole(ci, it, &inventory.RoleOptIn{RoleArn: arn}); v.Code != inventory.VerdictNoTrunk || !strings.Contains(v.Message, "trunkctl enable --role "+arn) {
		t.Fatalf("disabled role: %+v", v)
	}
	if v := inventory.JudgeWithRole(ci, it, nil); v != inventory.Judge(ci, it) {
		t.Fatalf("unknown role: %+v", v)
	}
	ci.TrunkENI = "eni-1"
	if v := inventory.JudgeWithRole(ci, it, &inventory.RoleOptIn{RoleArn: arn}); v.Code != inventory.VerdictOK {
		t.Fatalf("a trunk is ok whatever the role says now: %+v", v)
	}
}

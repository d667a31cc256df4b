package doctor

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Minimum ECS agent versions for ENI trunking.
const (
	MinAgent          = "1.28.1"
	MinAgentNonAmzn   = "1.29.1"
	statusRegFailed   = "REGISTRATION_FAILED"
	statusRegistering = "REGISTERING"
)

// VerdictCode names what is true of a container instance for trunking.
type VerdictCode string

// Verdict codes, stable for scripts (the instances command's JSON).
const (
	VerdictOK                 VerdictCode = "ok"
	VerdictNoTrunk            VerdictCode = "no-trunk"
	VerdictUnsupportedType    VerdictCode = "unsupported-type"
	VerdictUnknownType        VerdictCode = "unknown-type"
	VerdictAgentTooOld        VerdictCode = "agent-too-old"
	VerdictRegistrationFailed VerdictCode = "registration-failed"
	VerdictRegistering        VerdictCode = "registering"
	VerdictWindows            VerdictCode = "windows"
)

// Verdict is the judgement on one container instance.
type Verdict struct {
	Code VerdictCode
	// Severity is Info for a healthy instance, Warning for a type the
	// published table lacks, Error otherwise.
	Severity Severity
	// Message says what is true, and for a missing trunk the next step.
	Message string
	// Healthy is false when the instance needs action.
	Healthy bool
	// Fix is the exact fix for an unhealthy instance (a command or setting).
	Fix string
	// Evidence are the facts the verdict rests on, e.g. "trunk: eni-1".
	Evidence []string
}

// Usage is how many awsvpc tasks an instance runs against its limit.
type Usage struct {
	AWSVPCTasks int `json:"awsvpcTasks"`
	// Limit is the catalog's limit for the instance: with trunking when the
	// instance has a trunk, else without; 0 when unknown.
	Limit   int             `json:"limit"`
	Support catalog.Support `json:"support"`
}

// Judge decides the verdict for a container instance.
//
// No API says when a role was opted in, so "registered before the opt-in"
// cannot be proven: an ACTIVE Linux instance of a supported type with a new
// enough agent and no trunk was registered while its role was not opted in
// (or before it was), and only replacing it gives it a trunk.
func judgeInstance(ci inventory.ContainerInstance, it catalog.InstanceType) Verdict {
	switch {
	case ci.Status == statusRegFailed:
		reason := ci.StatusReason
		if reason == "" {
			reason = "no reason given"
		}
		return Verdict{Code: VerdictRegistrationFailed, Message: "registration failed: " + reason, Healthy: false}
	case strings.EqualFold(ci.OSType, "windows"):
		return Verdict{Code: VerdictWindows, Message: "Windows: ENI trunking is Linux only", Healthy: false}
	case it.Support == catalog.Unsupported:
		return Verdict{Code: VerdictUnsupportedType, Message: fmt.Sprintf("type %s not supported: %s", ci.InstanceType, it.Reason), Healthy: false}
	case ci.AgentVersion != "" && CompareVersions(ci.AgentVersion, MinAgent) < 0:
		return Verdict{Code: VerdictAgentTooOld, Message: fmt.Sprintf("agent %s too old: trunking needs >= %s (>= %s off Amazon Linux)", ci.AgentVersion, MinAgent, MinAgentNonAmzn), Healthy: false}
	case ci.TrunkENI != "" && it.Support == catalog.Unknown:
		return Verdict{Code: VerdictOK, Message: fmt.Sprintf("trunk %s; type %s not in the published table, task limit unknown", ci.TrunkENI, ci.InstanceType), Healthy: true}
	case ci.TrunkENI != "":
		return Verdict{Code: VerdictOK, Message: "trunk " + ci.TrunkENI, Healthy: true}
	case ci.Status == statusRegistering:
		return Verdict{Code: VerdictRegistering, Message: "registering: the trunk may still be provisioning", Healthy: true}
	case it.Support == catalog.Unknown:
		return Verdict{Code: VerdictUnknownType, Message: fmt.Sprintf("no trunk; type %s: %s", ci.InstanceType, it.Reason), Healthy: false}
	default:
		return Verdict{Code: VerdictNoTrunk, Message: "no trunk: registered while the role was not opted in, or before; opt the role in, then drain and replace it", Healthy: false}
	}
}

// RoleOptIn is what is known now of an instance's role setting.
type RoleOptIn struct {
	RoleArn string
	Enabled bool
}

// judgeWithRole is judgeInstance, with the no-trunk verdict made precise when
// the role's current setting is known: enabled now means the instance
// registered before the opt-in (or while it was off); disabled means opt it
// in first.
func judgeWithRole(ci inventory.ContainerInstance, it catalog.InstanceType, role *RoleOptIn) Verdict {
	v := judgeInstance(ci, it)
	if v.Code != VerdictNoTrunk || role == nil {
		return v
	}
	if role.Enabled {
		v.Message = fmt.Sprintf("no trunk, though role %s is enabled now: registered before the opt-in (or while it was off); drain and replace it", roleName(role.RoleArn))
	} else {
		v.Message = fmt.Sprintf("no trunk: role %s is not opted in; trunkctl enable --role %s, then drain and replace it", roleName(role.RoleArn), role.RoleArn)
	}
	return v
}

func roleName(arn string) string { return inventory.ResourceID(arn) }

// UsageOf counts awsvpc tasks against the limit that applies to the instance.
func UsageOf(ci inventory.ContainerInstance, it catalog.InstanceType, awsvpcTasks int) Usage {
	u := Usage{AWSVPCTasks: awsvpcTasks, Support: it.Support}
	if ci.TrunkENI != "" {
		u.Limit = it.TasksWithTrunking
	} else {
		u.Limit = it.TasksWithoutTrunking
	}
	return u
}

// CompareVersions compares dotted numeric versions ("1.28.1"), ignoring a
// leading "v" and any suffix after "-" or "+". Missing parts count as 0.
func CompareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionParts(v string) []int {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if i := strings.IndexAny(v, "-+ "); i >= 0 {
		v = v[:i]
	}
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			n = 0
		}
		out = append(out, n)
	}
	return out
}

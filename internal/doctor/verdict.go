package doctor

import (
	"strconv"
	"strings"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/inventory"
)

// Minimum ECS agent versions for ENI trunking.
const (
	MinAgent        = "1.28.1"
	MinAgentNonAmzn = "1.29.1"
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

// Verdict is the judgement on one container instance (JSON contract of
// `instances` and of doctor's instance findings).
type Verdict struct {
	Code VerdictCode `json:"code"`
	// Severity is Info for a healthy instance, Warning for what is worth a
	// look but may be fine (a type neither source knows, an ECS Managed
	// Instance without a trunk), Error otherwise.
	Severity Severity `json:"severity"`
	// Message says what is true.
	Message string `json:"message"`
	// Healthy is false when the instance needs action.
	Healthy bool `json:"healthy"`
	// Fix is the exact fix for an unhealthy instance, with its real ids (a
	// command or setting).
	Fix string `json:"fix,omitempty"`
	// Evidence are the facts the verdict rests on: ids and the values the
	// APIs returned.
	Evidence []string `json:"evidence,omitempty"`
	// Remedy says what a replacement would do, for trunkctl rollout.
	Remedy Remedy `json:"remedy"`
}

// Usage is how many awsvpc tasks an instance runs against its limit.
type Usage struct {
	AWSVPCTasks int `json:"awsvpcTasks"`
	// Limit is the catalog's limit for the instance: with trunking when the
	// instance has a trunk, else without; 0 when unknown.
	Limit   int             `json:"limit"`
	Support catalog.Support `json:"support"`
}

// RoleOptIn is what is known now of an instance's role setting.
type RoleOptIn struct {
	RoleArn string
	Enabled bool
}

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

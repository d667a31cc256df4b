package guard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/trunkctl/trunkctl/internal/awserr"
	"github.com/trunkctl/trunkctl/internal/doctor"
)

// maxParameterValue is SSM's limit for a Standard-tier String parameter.
const maxParameterValue = 4096

// hashPrefix marks a state kept as the SHA-256 of its keys.
const hashPrefix = "sha256:"

// key is a finding's identity across runs: its check and subject.
func key(f doctor.Finding) string { return f.Check + " " + f.Subject }

// splitKey is the check and subject of a key.
func splitKey(k string) (check, subject string) {
	check, subject, _ = strings.Cut(k, " ")
	return check, subject
}

// state is the set of keys the guard last notified for a cluster. When the
// sorted keys would not fit a parameter, only their hash is kept: the set
// can then be compared but not listed.
type state struct {
	keys []string
	hash string
}

// stateOf is the state of a set of keys (sorted, without duplicates).
func stateOf(keys []string) state {
	seen := map[string]bool{}
	var out []string
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return state{keys: out}
}

// encode is the parameter value: a JSON array of keys, or sha256:HEX of
// that array when it is longer than SSM allows.
func (s state) encode() string {
	if s.hash != "" {
		return hashPrefix + s.hash
	}
	b, _ := json.Marshal(s.keys)
	if len(b) > maxParameterValue {
		sum := sha256.Sum256(b)
		return hashPrefix + hex.EncodeToString(sum[:])
	}
	return string(b)
}

// decodeState reads a parameter value; an unreadable one is the empty set
// (the next comparison differs and rewrites it).
func decodeState(v string) state {
	if h, ok := strings.CutPrefix(v, hashPrefix); ok {
		return state{hash: h}
	}
	var keys []string
	if err := json.Unmarshal([]byte(v), &keys); err != nil {
		return stateOf(nil)
	}
	return stateOf(keys)
}

// same says whether two states hold the same set.
func (s state) same(o state) bool { return s.encode() == o.encode() }

// has says whether the set holds k; known is false when only a hash is kept.
func (s state) has(k string) (has, known bool) {
	if s.hash != "" {
		return false, false
	}
	i := sort.SearchStrings(s.keys, k)
	return i < len(s.keys) && s.keys[i] == k, true
}

// minus is the keys of s that o lacks (none when s is only a hash).
func (s state) minus(o state) []string {
	var out []string
	for _, k := range s.keys {
		if has, _ := o.has(k); !has {
			out = append(out, k)
		}
	}
	return out
}

// parameterName is the state parameter of a cluster.
func (g *Guard) parameterName(cluster string) string { return g.Config.StatePrefix + cluster }

// readState reads a cluster's state; a parameter never written is the empty set.
func (g *Guard) readState(ctx context.Context, c SSMAPI, cluster string) (state, error) {
	out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(g.parameterName(cluster))})
	if awserr.IsParameterNotFound(err) {
		return stateOf(nil), nil
	}
	if err != nil {
		return state{}, fmt.Errorf("read state parameter %s: %w", g.parameterName(cluster), err)
	}
	if out.Parameter == nil {
		return stateOf(nil), nil
	}
	return decodeState(aws.ToString(out.Parameter.Value)), nil
}

func (g *Guard) writeState(ctx context.Context, c SSMAPI, cluster string, s state) error {
	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(g.parameterName(cluster)), Value: aws.String(s.encode()),
		Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true),
		Description: aws.String("trunkctl guard: the error findings last notified for ECS cluster " + cluster),
	})
	if err != nil {
		return fmt.Errorf("write state parameter %s: %w", g.parameterName(cluster), err)
	}
	return nil
}

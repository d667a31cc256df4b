package hostsetup

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/trunkctl/trunkctl/internal/retry"
)

// WaitReport is what --wait saw.
type WaitReport struct {
	ContainerInstanceArn string
	Cluster              string
	AgentVersion         string
	// TrunkMAC and TrunkInterfaceID identify the interface taken for the
	// trunk ENI ("" when none appeared).
	TrunkMAC         string
	TrunkInterfaceID string
	// Interfaces is the last list of MACs IMDS gave.
	Interfaces []string
}

// WaitTimeoutError is --wait running out, with what was and was not seen.
type WaitTimeoutError struct {
	Wait   time.Duration
	Report WaitReport
	Last   string // the last error or state seen
}

func (e *WaitTimeoutError) Error() string {
	if e.Report.ContainerInstanceArn == "" {
		return fmt.Sprintf("the ECS agent did not report a container instance ARN within %s (last: %s); "+
			"check `journalctl -u ecs` and /var/log/ecs/ecs-agent.log", e.Wait, e.Last)
	}
	return fmt.Sprintf("registered as %s, but no trunk ENI appeared within %s (interfaces: %s); "+
		"was awsvpcTrunking enabled for the instance role before this instance registered? "+
		"(trunkctl status --role ROLE)", e.Report.ContainerInstanceArn, e.Wait, strings.Join(e.Report.Interfaces, ", "))
}

// introspectionMetadata is the agent's GET /v1/metadata answer.
type introspectionMetadata struct {
	Cluster              string
	ContainerInstanceArn string
	Version              string
}

const (
	requestTimeout  = 2 * time.Second
	progressEvery   = 15 * time.Second
	maxIntrospected = 1 << 20
)

// waitForTrunk polls the agent's introspection endpoint until it reports a
// container instance ARN, then IMDS until the trunk ENI shows up as an
// interface. An interface counts as the trunk when it is not the primary
// one and was not there when hostbootstrap started; if the agent was
// already registered at the first poll (a re-run), any non-primary
// interface counts, since the trunk may predate this run.
func (s *setup) waitForTrunk(ctx context.Context, baseline []string, primaryMAC string) (*WaitReport, error) {
	w := &WaitReport{}
	deadline := time.Now().Add(s.o.Wait)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	s.warnIfOrderedAfterCloudFinal()
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: requestTimeout}

	s.d.Log.Info("waiting for the ECS agent to register", "url", s.o.IntrospectionURL, "wait", s.o.Wait.String())
	last, lastProgress := "no answer yet", time.Now()
	registeredAtFirstPoll, first := false, true
	for {
		md, err := getIntrospection(ctx, client, s.o.IntrospectionURL)
		switch {
		case err != nil && ctx.Err() != nil:
			// Our own deadline cut the request: keep the last real answer.
		case err != nil:
			last = err.Error()
		case md.ContainerInstanceArn == "":
			last = "agent answered without a container instance ARN"
		default:
			w.ContainerInstanceArn, w.Cluster, w.AgentVersion = md.ContainerInstanceArn, md.Cluster, md.Version
			registeredAtFirstPoll = first
		}
		first = false
		if w.ContainerInstanceArn != "" {
			break
		}
		if !s.sleep(ctx, &lastProgress, "still waiting for the ECS agent to register", "last", last) {
			return w, &WaitTimeoutError{Wait: s.o.Wait, Report: *w, Last: last}
		}
	}
	s.d.Log.Info("ECS agent registered", "container_instance_arn", w.ContainerInstanceArn, "cluster", w.Cluster,
		"agent_version", w.AgentVersion, s.elapsed())

	s.d.Log.Info("waiting for the trunk ENI", "interfaces_at_start", baseline, "primary", primaryMAC)
	for {
		macs, err := interfaces(ctx, s.d.IMDS)
		if err == nil {
			w.Interfaces = macs
			for _, m := range macs {
				if m != primaryMAC && (registeredAtFirstPoll || !slices.Contains(baseline, m)) {
					w.TrunkMAC = m
					w.TrunkInterfaceID, _ = getMetadata(ctx, s.d.IMDS, "network/interfaces/macs/"+m+"/interface-id")
					s.d.Log.Info("trunk ENI attached", "mac", m, "interface_id", w.TrunkInterfaceID, s.elapsed())
					return w, nil
				}
			}
			last = "interfaces " + strings.Join(macs, ", ")
		} else if ctx.Err() == nil {
			last = err.Error()
		}
		if !s.sleep(ctx, &lastProgress, "still waiting for the trunk ENI", "last", last) {
			return w, &WaitTimeoutError{Wait: s.o.Wait, Report: *w, Last: last}
		}
	}
}

// sleep waits one poll interval, logging progress now and then; false
// means the deadline passed.
func (s *setup) sleep(ctx context.Context, lastProgress *time.Time, msg string, args ...any) bool {
	if time.Since(*lastProgress) >= progressEvery {
		*lastProgress = time.Now()
		s.d.Log.Info(msg, append(args, s.elapsed())...)
	}
	return retry.Sleep(ctx, s.o.PollInterval) == nil
}

func getIntrospection(ctx context.Context, client *http.Client, url string) (introspectionMetadata, error) {
	var md introspectionMetadata
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return md, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return md, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return md, fmt.Errorf("agent introspection: HTTP %s", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxIntrospected)).Decode(&md); err != nil {
		return md, fmt.Errorf("agent introspection: %w", err)
	}
	return md, nil
}

// warnIfOrderedAfterCloudFinal: ECS-optimized AMIs order ecs.service after
// cloud-final, so from user data the agent starts only once user data ends
// and --wait there can only time out.
func (s *setup) warnIfOrderedAfterCloudFinal() {
	unit := installedUnit(s.o.Root)
	if unit == "" {
		return
	}
	data, err := os.ReadFile(unit)
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "After=") && strings.Contains(l, "cloud-final.service") {
			s.warn("ecs.service starts only after cloud-final.service: run from user data, --wait cannot see the agent register before user data ends; run hostbootstrap without --wait there",
				"unit", unit)
			return
		}
	}
}

package guard

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trunkctl/trunkctl/internal/doctor"
)

// Notification is the SNS message (JSON contract).
type Notification struct {
	Cluster string `json:"cluster"`
	Account string `json:"account"`
	Region  string `json:"region"`
	// Findings are the cluster's error findings now (a sweep), or the one
	// new finding an event found; [] when everything was resolved.
	Findings []NotifiedFinding `json:"findings"`
	// Resolved are the findings last notified that are gone.
	Resolved []NotifiedFinding `json:"resolved"`
}

// NotifiedFinding is a finding as notified.
type NotifiedFinding struct {
	Check    string `json:"check"`
	Severity string `json:"severity"`
	Subject  string `json:"subject"`
	Message  string `json:"message"`
	Fix      string `json:"fix"`
}

func notified(f doctor.Finding) NotifiedFinding {
	return NotifiedFinding{Check: f.Check, Severity: string(f.Severity), Subject: f.Subject, Message: f.Message, Fix: f.Fix}
}

// resolvedFinding is what is known of a key that was notified and is gone.
func resolvedFinding(k string) NotifiedFinding {
	check, subject := splitKey(k)
	return NotifiedFinding{Check: check, Severity: string(doctor.Error), Subject: subject, Message: "no longer found"}
}

// maxSubject is SNS's limit for a Subject, exclusive.
const maxSubject = 100

// Subject is the notification's subject: fewer than 100 ASCII characters.
func (n Notification) Subject() string {
	noTrunk := 0
	for _, f := range n.Findings {
		if f.Check == doctor.CheckInstance {
			noTrunk++
		}
	}
	var what string
	switch {
	case len(n.Findings) == 0:
		what = fmt.Sprintf("%d resolved, nothing left", len(n.Resolved))
	case noTrunk == len(n.Findings):
		what = plural(noTrunk, "instance") + " without a trunk"
	case noTrunk > 0:
		what = fmt.Sprintf("%s (%s without a trunk)", plural(len(n.Findings), "error"), plural(noTrunk, "instance"))
	default:
		what = plural(len(n.Findings), "error")
	}
	head := "trunkctl: " + what + " in "
	return head + ascii(n.Cluster, maxSubject-1-len(head))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// ascii keeps printable ASCII and cuts to at most n characters (with "...").
func ascii(s string, n int) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x20 && s[i] < 0x7f {
			b = append(b, s[i])
		}
	}
	if len(b) > n && n > 3 {
		return string(b[:n-3]) + "..."
	}
	if len(b) > n {
		return string(b[:n])
	}
	return string(b)
}

// publish sends n to the topic; nothing when no topic is configured.
func (g *Guard) publish(ctx context.Context, c SNSAPI, n Notification) error {
	if g.Config.TopicArn == "" {
		g.Log.Info("findings changed; no topic to notify", "cluster", n.Cluster, "findings", len(n.Findings), "resolved", len(n.Resolved))
		return nil
	}
	if n.Findings == nil {
		n.Findings = []NotifiedFinding{}
	}
	if n.Resolved == nil {
		n.Resolved = []NotifiedFinding{}
	}
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(g.Config.TopicArn), Subject: aws.String(n.Subject()), Message: aws.String(string(body))}); err != nil {
		return fmt.Errorf("publish to %s: %w", g.Config.TopicArn, err)
	}
	g.Log.Info("notified", "cluster", n.Cluster, "subject", n.Subject(), "findings", len(n.Findings), "resolved", len(n.Resolved))
	return nil
}

// notifyChange compares the cluster's keys now with the state it had and,
// when they differ, publishes once and writes the new state (publish first:
// a failed publish leaves the state as it was, so the next run tries again).
func (g *Guard) notifyChange(ctx context.Context, c *Clients, n Notification, before, now state) (bool, error) {
	if before.same(now) {
		return false, nil
	}
	for _, k := range before.minus(now) {
		n.Resolved = append(n.Resolved, resolvedFinding(k))
	}
	if err := g.publish(ctx, c.SNS, n); err != nil {
		return false, err
	}
	return true, g.writeState(ctx, c.SSM, n.Cluster, now)
}

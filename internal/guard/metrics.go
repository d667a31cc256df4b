package guard

import (
	"encoding/json"

	"github.com/trunkctl/trunkctl/internal/doctor"
)

// MetricsNamespace is the CloudWatch namespace of the guard's metrics.
const MetricsNamespace = "trunkctl"

// Metrics are one cluster's figures.
type Metrics struct {
	// UntrunkedInstances are container instances that should have a trunk
	// and do not: no trunk ENI and an error verdict (a registering or
	// Managed Instance, or one the judge only warns about, is not counted).
	UntrunkedInstances int
	TrunkedInstances   int
	ErrorFindings      int
}

// MetricsOf counts a cluster's figures from the judge's report.
func MetricsOf(r doctor.Report) Metrics {
	var m Metrics
	for _, i := range r.Instances {
		switch {
		case i.ContainerInstance.TrunkENI != "":
			m.TrunkedInstances++
		case i.Verdict.Severity == doctor.Error:
			m.UntrunkedInstances++
		}
	}
	m.ErrorFindings = len(ErrorFindings(r))
	return m
}

// emfLine is one CloudWatch Embedded Metric Format record.
func emfLine(cluster string, m Metrics, timestampMs int64) []byte {
	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	doc := map[string]any{
		"_aws": map[string]any{
			"Timestamp": timestampMs,
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  MetricsNamespace,
				"Dimensions": [][]string{{"ClusterName"}, {}},
				"Metrics":    []metric{{"UntrunkedInstances", "Count"}, {"TrunkedInstances", "Count"}, {"ErrorFindings", "Count"}},
			}},
		},
		"ClusterName":        cluster,
		"UntrunkedInstances": m.UntrunkedInstances,
		"TrunkedInstances":   m.TrunkedInstances,
		"ErrorFindings":      m.ErrorFindings,
	}
	b, _ := json.Marshal(doc)
	return append(b, '\n')
}

// emit writes the cluster's EMF line in one write, so lines of clusters
// judged at once never interleave.
func (g *Guard) emit(cluster string, m Metrics) {
	if g.Metrics == nil {
		return
	}
	line := emfLine(cluster, m, g.now().UnixMilli())
	g.metricsMu.Lock()
	defer g.metricsMu.Unlock()
	_, _ = g.Metrics.Write(line)
}

package cli

import (
	"context"
	"fmt"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/doctor"
)

// The per-target halves of status, instances and doctor: each runs the
// command's own single-target read on a copy of its opts with the target's
// env, and returns the single-target JSON shape and the fleet view's cells.

// fanned reports whether the command runs across targets.
func (e env) fanned(allClusters bool) bool {
	return allClusters || (e.fan != nil && e.fan.opts.enabled())
}

func (o *instancesOpts) forTarget(ctx context.Context, e env, c *clients, cluster string) (clusterResult, error) {
	t := *o
	t.env, t.cluster, t.rows = e, cluster, nil
	if err := t.read(ctx, c); err != nil {
		return clusterResult{}, err
	}
	return clusterResult{detail: t.view(), cells: cellsOfInstances(t.rows)}, nil
}

func (o *doctorOpts) forTarget(ctx context.Context, e env, c *clients, cluster string) (clusterResult, error) {
	t := *o
	t.env, t.cluster = e, cluster
	in, err := t.gather(ctx, c)
	if err != nil {
		return clusterResult{}, err
	}
	report := doctor.Judge(in)
	t.findings = report.Findings
	cells := cellsOfInstances(instanceRows(report.Instances))
	roles, enabled := 0, 0
	for _, r := range in.Roles {
		roles++
		if r.Err == nil && r.EffectiveValue == accountsetting.Enabled {
			enabled++
		}
	}
	cells.rolesRead, cells.roles, cells.rolesEnabled = roles > 0, roles, enabled
	cells.worst, cells.unhealthy = "ok", doctor.Count(t.findings)[doctor.Error] > 0
	var worst *doctor.Finding
	same := 0
	for i, f := range t.findings {
		switch {
		case f.Severity == doctor.Info:
		case worst == nil || severityRank(f.Severity) > severityRank(worst.Severity):
			worst, same = &t.findings[i], 0
		case f.Severity == worst.Severity:
			same++
		}
	}
	if worst != nil {
		cells.worst = fmt.Sprintf("%s %s %s", worst.Severity, worst.Check, worst.Subject)
		if same > 0 {
			cells.worst += fmt.Sprintf(" (+%d more)", same)
		}
	}
	return clusterResult{detail: t.view(), cells: cells}, nil
}

func severityRank(s doctor.Severity) int {
	switch s {
	case doctor.Error:
		return 2
	case doctor.Warning:
		return 1
	}
	return 0
}

func (o *statusOpts) forTarget(ctx context.Context, e env, c *clients, cluster string) (clusterResult, error) {
	t := *o
	t.env, t.cluster, t.results = e, cluster, nil
	if err := t.read(ctx, c); err != nil {
		return clusterResult{}, err
	}
	cells := fleetCells{rolesRead: true, roles: len(t.results), worst: "ok"}
	for _, r := range t.results {
		switch {
		case r.Error != "":
			if !cells.unhealthy {
				cells.worst = "cannot read " + r.RoleArn + ": " + r.Error
			}
			cells.unhealthy = true
		case r.EffectiveValue == accountsetting.Enabled:
			cells.rolesEnabled++
		default:
			if !cells.unhealthy {
				cells.worst = fmt.Sprintf("%s is %s", r.RoleArn, r.EffectiveValue)
			}
			cells.unhealthy = true
		}
	}
	return clusterResult{detail: t.view(), cells: cells}, nil
}

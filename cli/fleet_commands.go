package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/doctor"
	"github.com/trunkctl/trunkctl/internal/fleet"
)

// The per-target halves of status, instances and doctor: each runs the
// command's own single-target read on a copy of its opts with the target's
// env, and returns the single-target JSON shape and the fleet view's cells.

// fanned reports whether the command runs across targets.
func (e env) fanned(allClusters bool) bool {
	return allClusters || (e.fan != nil && e.fan.opts.enabled())
}

func (o *instancesOpts) forTarget(ctx context.Context, e env, c *clients, cluster string) (clusterResult, error) {
	res, err := readInstances(ctx, e, c, cluster, o.noRoles)
	if err != nil {
		return clusterResult{}, err
	}
	return clusterResult{detail: res.view(), cells: cellsOfInstances(res.rows)}, nil
}

func (o *doctorOpts) forTarget(ctx context.Context, e env, c *clients, cluster string) (clusterResult, error) {
	a, err := assessDoctor(ctx, e, c, cluster, o.stuckAfter)
	if err != nil {
		return clusterResult{}, err
	}
	report, in, findings := a.Report, a.Input, a.Report.Findings
	cells := cellsOfInstances(instanceRows(report.Instances, in))
	roles, enabled := 0, 0
	for _, r := range in.Roles {
		roles++
		if r.Err == nil && r.EffectiveValue == accountsetting.Enabled {
			enabled++
		}
	}
	cells.rolesRead, cells.roles, cells.rolesEnabled = roles > 0, roles, enabled
	cells.worst, cells.unhealthy = "ok", report.Unhealthy()
	// The judge sorts its findings worst first.
	if len(findings) > 0 && findings[0].Severity != doctor.Info {
		worst := findings[0]
		cells.worst = fmt.Sprintf("%s %s %s", worst.Severity, worst.Check, worst.Subject)
		if same := doctor.Count(findings)[worst.Severity] - 1; same > 0 {
			cells.worst += fmt.Sprintf(" (+%d more)", same)
		}
	}
	return clusterResult{detail: doctorView(cluster, findings), cells: cells}, nil
}

func (o *statusOpts) forTarget(ctx context.Context, e env, c *clients, cluster string) (clusterResult, error) {
	results, err := o.readIn(ctx, e, c, cluster)
	if err != nil {
		return clusterResult{}, err
	}
	return clusterResult{detail: rolesView(results), cells: cellsOfRoles(results, accountsetting.Enabled)}, nil
}

// cellsOfRoles are the fleet view's cells of role settings read (or
// written) in one target; a role not at want is unhealthy.
func cellsOfRoles(results []accountsetting.RoleSetting, want string) fleetCells {
	cells := fleetCells{rolesRead: true, roles: len(results), worst: "ok"}
	for _, r := range results {
		switch {
		case r.Error != "":
			if !cells.unhealthy {
				cells.worst = "cannot read " + r.RoleArn + ": " + r.Error
			}
			cells.unhealthy = true
		case r.EffectiveValue == want:
			cells.rolesEnabled++
		default:
			if !cells.unhealthy {
				cells.worst = fmt.Sprintf("%s is %s", r.RoleArn, r.EffectiveValue)
			}
			cells.unhealthy = true
		}
	}
	return cells
}

func addRoleNameFlag(cmd *cobra.Command, names *[]string) {
	cmd.Flags().StringArrayVar(names, flagRoleName, nil, "instance role name, looked up in each account the command runs in (repeatable)")
}

// validateRoleNames checks --role-name, and what a write across accounts
// and Regions needs: role names (an ARN names one account), no --default,
// and --yes when there is no terminal to confirm on.
func (o *enableOpts) validateRoleNames() error {
	if err := checkRoleNames(o.roleNames); err != nil {
		return err
	}
	if !o.fanned(false) {
		return nil
	}
	switch {
	case o.allDefault:
		return usageErrorf("--%s does not run across accounts and Regions; deploy the organization's StackSet, or run it per account", flagDefault)
	case len(o.roleNames) == 0:
		return usageErrorf("name the role in each account with --%s", flagRoleName)
	case len(o.roles) > 0:
		return usageErrorf("across accounts, name roles with --%s (--%s takes ARNs, which name one account)", flagRoleName, flagRole)
	case !o.yes && !o.dryRun && !o.io.InIsTerminal:
		return usageErrorf("%s writes in many accounts and stdin is not a terminal to confirm on; pass --%s, or --%s first", o.verb(), flagYes, flagDryRun)
	}
	return nil
}

func (o *enableOpts) verb() string {
	if o.value == accountsetting.Disabled {
		return "disable"
	}
	return "enable"
}

// fleetPlan is what enable --dry-run prints across accounts (JSON contract).
type fleetPlan struct {
	DryRun         bool     `json:"dryRun"`
	Setting        string   `json:"setting"`
	Value          string   `json:"value"`
	RoleNames      []string `json:"roleNames"`
	Accounts       []string `json:"accounts"`
	Regions        []string `json:"regions"`
	AssumeRoleName string   `json:"assumeRoleName"`
	Caller         string   `json:"caller"`
}

// runFleetWrite sets the value for the named roles in every target, after
// confirmation (or prints the plan with --dry-run).
func (o *enableOpts) runFleetWrite(ctx context.Context) error {
	before := func(accounts, regions []string, caller fleet.Caller) error {
		where := fmt.Sprintf("%d account(s) x %d Region(s)", len(accounts), len(regions))
		shown := regions
		if regions == nil {
			where, shown = fmt.Sprintf("each enabled Region of %d account(s)", len(accounts)), []string{fleet.AllRegions}
		}
		if o.dryRun {
			p := fleetPlan{DryRun: true, Setting: accountsetting.AWSVPCTrunking, Value: o.value, RoleNames: o.roleNames,
				Accounts: accounts, Regions: shown, AssumeRoleName: o.fan.opts.AssumeRoleName, Caller: caller.Arn}
			if o.structured() {
				if err := o.writeData(p); err != nil {
					return err
				}
				return errStop
			}
			fmt.Fprintf(o.io.Out, "would set %s=%s for role(s) %s in %s, as each role (see trunkctl %s --dry-run in one account for how)\n",
				p.Setting, p.Value, strings.Join(p.RoleNames, ", "), where, o.verb())
			fmt.Fprintf(o.io.Out, "accounts: %s\nRegions: %s\nassuming %s in each account but the caller's (%s)\n",
				strings.Join(accounts, ", "), strings.Join(shown, ", "), p.AssumeRoleName, caller.Account())
			return errStop
		}
		if o.yes {
			return nil
		}
		ok, err := confirm(o.io, fmt.Sprintf("Set %s=%s for role(s) %s in %s?", accountsetting.AWSVPCTrunking, o.value, strings.Join(o.roleNames, ", "), where))
		if err != nil {
			return err
		}
		if !ok {
			return &exitError{code: ExitError, err: errors.New("cancelled; nothing changed")}
		}
		return nil
	}
	return o.runFleetThen(ctx, "", false, o, before)
}

// forTarget writes and reads back the roles' setting in one target.
func (o *enableOpts) forTarget(ctx context.Context, _ env, c *clients, _ string) (clusterResult, error) {
	caller, err := c.session.Caller(ctx)
	if err != nil {
		return clusterResult{}, err
	}
	roles, err := rolesFromArgs(o.roleNames, caller.Principal)
	if err != nil {
		return clusterResult{}, err
	}
	results, err := c.session.OptIn(ctx, dedupeRoles(roles), o.value)
	if err != nil {
		return clusterResult{}, err
	}
	return clusterResult{detail: rolesView(results), cells: cellsOfRoles(results, o.value)}, nil
}

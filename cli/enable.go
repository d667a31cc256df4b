package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/awsarn"
)

// enableOpts serve both enable (value enabled) and disable (value disabled).
type enableOpts struct {
	value      string
	roles      []string
	roleNames  []string // looked up in each account (cli/fleet.go)
	allDefault bool
	yes        bool
	dryRun     bool

	env
}

// enableResult is what enable or disable did: the roles' settings read
// back, or the account default as PutAccountSettingDefault stored it.
type enableResult struct {
	roles []accountsetting.RoleSetting
	def   *defaultResult
}

type defaultResult struct {
	Setting      string `json:"setting"`
	Value        string `json:"value"`
	PrincipalArn string `json:"principalArn"`
}

// plannedCall is what --dry-run says would happen.
type plannedCall struct {
	Operation    string `json:"operation"`
	Setting      string `json:"setting"`
	Value        string `json:"value"`
	PrincipalArn string `json:"principalArn,omitempty"`
	Caller       string `json:"caller"`
	Via          string `json:"via"`
	RoleArn      string `json:"roleArn,omitempty"`
	Note         string `json:"note"`
}

func newEnableCmd(envOf func() env, value string) *cobra.Command {
	o := &enableOpts{value: value}
	verb := "enable"
	if value == accountsetting.Disabled {
		verb = "disable"
	}
	cmd := &cobra.Command{
		Use:   verb + " (--role ROLE... | --default)",
		Short: fmt.Sprintf("Set awsvpcTrunking to %s for instance roles, or as the account default", value),
		Long: fmt.Sprintf(`Set awsvpcTrunking=%[1]s for each role, acting as the role (as root with principalArn,
as the role itself, with principalArn where ECS lets the caller name the role, or by
assuming it), then read the effective value back and report it.

--default calls PutAccountSettingDefault instead: it changes the value for every
principal in the account and Region that has no explicit setting, so it asks for
confirmation unless --yes. --dry-run prints what would be called, as whom, and calls
nothing but sts:GetCallerIdentity.

disable writes an explicit "disabled" for the role (it does not delete the role's
setting), so the role stays off even when the account default is enabled. To drop
the explicit setting and fall back to the default, use
aws ecs delete-account-setting --name awsvpcTrunking --principal-arn ROLE_ARN as root.

Only container instances registered after a role is enabled get a trunk ENI;
disabling does not remove trunks from running instances.`, value),
		Example: fmt.Sprintf(`  trunkctl %[1]s --role ecsInstanceRole
  trunkctl %[1]s --role arn:aws:iam::123456789012:role/EcsInstance --dry-run
  trunkctl %[1]s --default --yes`, verb),
		Args:        noArgs,
		Annotations: map[string]string{annotationWrites: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.env = envOf()
			return run(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.roles, flagRole, nil, "instance role name or ARN (repeatable)")
	f.BoolVar(&o.allDefault, flagDefault, false, "set the account default (PutAccountSettingDefault) instead of a role's setting")
	f.BoolVarP(&o.yes, flagYes, "y", false, "do not ask for confirmation (of --default, or of a write across accounts)")
	f.BoolVar(&o.dryRun, flagDryRun, false, "print the calls that would be made, and as whom, without making them")
	addRoleNameFlag(cmd, &o.roleNames)
	return cmd
}

func (o *enableOpts) Validate() error {
	if err := accountsetting.ValidateValue(accountsetting.AWSVPCTrunking, o.value); err != nil {
		return err
	}
	if err := o.validateRoleNames(); err != nil {
		return err
	}
	switch {
	case o.allDefault && len(o.roles)+len(o.roleNames) > 0:
		return usageErrorf("--%s and --%s do not go together: --%s changes the value for every principal without its own setting", flagDefault, flagRole, flagDefault)
	case !o.allDefault && len(o.roles) == 0 && len(o.roleNames) == 0:
		return usageErrorf("name at least one --%s (or --%s), or --%s for the account default", flagRole, flagRoleName, flagDefault)
	case o.allDefault && !o.yes && !o.dryRun && !o.io.InIsTerminal:
		return usageErrorf("--%s changes the account default and stdin is not a terminal to confirm on; pass --%s", flagDefault, flagYes)
	}
	return validateRoles(o.roles, "")
}

// ValidateRegion checks that every role ARN is in the Region's partition.
func (o *enableOpts) ValidateRegion(region string) error { return validateRoles(o.roles, region) }

func (o *enableOpts) Execute(ctx context.Context) (enableResult, error) {
	if o.fanned(false) {
		return enableResult{}, o.runFleetWrite(ctx)
	}
	c, err := o.connect(ctx, o)
	if err != nil {
		return enableResult{}, err
	}
	caller, err := c.session.Caller(ctx)
	if err != nil {
		return enableResult{}, err
	}
	// In one account, --role-name names a role of the caller's account.
	roles, err := rolesFromArgs(append(append([]string(nil), o.roles...), o.roleNames...), caller.Principal)
	if err != nil {
		return enableResult{}, err
	}
	roles = dedupeRoles(roles)
	if o.dryRun {
		return enableResult{}, o.printPlan(o.plan(caller.Principal, caller.Arn, roles, c.region))
	}
	if o.allDefault {
		def, err := o.putDefault(ctx, c, caller.Arn)
		return enableResult{def: def}, err
	}
	stop := o.io.StartProgress("writing account settings")
	got, err := c.session.OptIn(ctx, roles, o.value)
	stop()
	if err != nil {
		return enableResult{}, err
	}
	if err := o.print(got); err != nil {
		return enableResult{roles: got}, err
	}
	return enableResult{roles: got}, statusExit(o.io, got, o.value)
}

// plan is what a dry run says would be called.
func (o *enableOpts) plan(caller awsarn.Principal, callerArn string, roles []awsarn.Role, region string) []plannedCall {
	var planned []plannedCall
	if o.allDefault {
		planned = append(planned, plannedCall{
			Operation: "ecs:PutAccountSettingDefault", Setting: accountsetting.AWSVPCTrunking, Value: o.value,
			Caller: callerArn, Via: "caller",
			Note: fmt.Sprintf("changes the value for every principal in account %s, Region %s, that has no explicit setting", caller.AccountID, region),
		})
	}
	for _, role := range roles {
		pc := plannedCall{Operation: "ecs:PutAccountSetting", Setting: accountsetting.AWSVPCTrunking, Value: o.value, Caller: callerArn, RoleArn: role.String()}
		switch mode := accountsetting.ModeFor(caller, role); mode {
		case accountsetting.AsRoot:
			pc.Via, pc.PrincipalArn, pc.Note = string(mode), role.String(), "the account root names the role with principalArn"
		case accountsetting.AsSelf:
			pc.Via, pc.Note = string(mode), "the caller is a session of the role and writes its own setting"
		default:
			pc.Via, pc.PrincipalArn = string(accountsetting.AsPrincipalArn)+" or "+string(mode), role.String()
			pc.Note = fmt.Sprintf("with principalArn as the caller first (the ECS developer guide lets an administrator); if ECS refuses, sts:AssumeRole %s and call as the role without principalArn", role)
		}
		planned = append(planned, pc)
	}
	return planned
}

func (o *enableOpts) printPlan(planned []plannedCall) error {
	if o.structured() {
		return o.writeData(struct {
			DryRun bool          `json:"dryRun"`
			Calls  []plannedCall `json:"calls"`
		}{true, planned})
	}
	for _, pc := range planned {
		args := fmt.Sprintf("name=%s value=%s", pc.Setting, pc.Value)
		if pc.PrincipalArn != "" {
			args += " principalArn=" + pc.PrincipalArn
		}
		fmt.Fprintf(o.io.Out, "would call %s %s as %s (%s): %s\n", pc.Operation, args, pc.Caller, pc.Via, pc.Note)
	}
	return nil
}

func (o *enableOpts) putDefault(ctx context.Context, c *clients, callerArn string) (*defaultResult, error) {
	if !o.yes {
		ok, err := confirm(o.io, fmt.Sprintf("Set the account default awsvpcTrunking=%s in %s for every principal without its own setting?", o.value, c.region))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &exitError{code: ExitError, err: errors.New("cancelled; nothing changed")}
		}
	}
	got, err := c.session.PutDefault(ctx, o.value)
	if err != nil {
		return nil, fmt.Errorf("as %s: %w", callerArn, err)
	}
	def := &defaultResult{Setting: got.Name, Value: got.Value, PrincipalArn: got.PrincipalArn}
	if o.structured() {
		if err := o.writeData(struct {
			Default *defaultResult `json:"default"`
		}{def}); err != nil {
			return def, err
		}
	} else {
		t := newTable(o.io, "DEFAULT", "SETTING", "VALUE")
		t.add(def.PrincipalArn, def.Setting, def.Value)
		if err := t.render(); err != nil {
			return def, err
		}
	}
	if def.Value != o.value {
		o.io.Warnf("the account default reads back %q, want %q", def.Value, o.value)
		return def, unhealthy()
	}
	return def, nil
}

// confirm asks a yes/no question on stderr and reads the answer from stdin.
func confirm(s *IOStreams, question string) (bool, error) {
	fmt.Fprintf(s.ErrOut, "%s [y/N] ", question)
	line, err := bufio.NewReader(s.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read confirmation: %w", err)
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

func (o *enableOpts) print(results []accountsetting.RoleSetting) error {
	if o.structured() {
		return o.writeData(rolesView(results))
	}
	return printRoles(o.io, results)
}

func (o *enableOpts) RecommendActions(res enableResult) {
	if o.dryRun || res.def != nil {
		if res.def != nil {
			o.io.Infof("Roles with their own setting keep it. See a cluster's roles with trunkctl status --cluster and the cluster's name (aws ecs list-clusters lists them).")
		}
		return
	}
	for _, r := range res.roles {
		if r.Error != "" || r.EffectiveValue != o.value {
			continue
		}
		if o.value == accountsetting.Enabled {
			o.io.Infof("Only container instances registered from now on get a trunk ENI. Find older ones with trunkctl instances --cluster and the name of each cluster these roles serve (aws ecs list-clusters lists them).")
		} else {
			o.io.Infof("Running instances keep their trunk ENIs until replaced.")
		}
		return
	}
}

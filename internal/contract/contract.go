// Package contract holds the names that two sides of trunkctl must spell the
// same way: the custom resource's properties, attributes and environment
// (written by the CDK constructs, read by the Lambda), and the ecs.config
// variables for trunking (written by hostbootstrap and by the launch
// template's user data). It has no logic and imports nothing, so both sides
// can depend on it cheaply.
package contract

// Custom-resource property names, as they appear in the template.
const (
	PropRoleArn = "RoleArn"
	// PropEC2Role is an alias of PropRoleArn, so the widely copied seed
	// template works unchanged.
	PropEC2Role  = "EC2Role"
	PropRegion   = "Region"
	PropSetting  = "Setting"
	PropValue    = "Value"
	PropOnDelete = "OnDelete"
	// PropRoleNames lists roles of the function's own account by name
	// (PATH/NAME for a role with a path), for the list resource
	// (ListResourceType): one resource over the whole list, diffed by role.
	PropRoleNames = "RoleNames"
	// PropServiceToken is sent by CloudFormation with every event; the
	// handler ignores it.
	PropServiceToken = "ServiceToken"
	// PropServiceTimeout is a CloudFormation property of every custom
	// resource; the handler ignores it.
	PropServiceTimeout = "ServiceTimeout"
)

// ResourceType is the CloudFormation type of each opt-in resource.
const ResourceType = "Custom::EniTrunking"

// ListResourceType is the CloudFormation type of an opt-in of a list of
// roles (PropRoleNames): keyed by role, so reordering or removing names
// never touches a role that stays listed.
const ListResourceType = "Custom::EniTrunkingRoles"

// Attributes of a created resource (the response's Data, read with Fn::GetAtt).
const (
	AttrPrincipalArn   = "PrincipalArn"
	AttrSetting        = "Setting"
	AttrValue          = "Value"
	AttrEffectiveValue = "EffectiveValue"
	// AttrVia says how the function acted as the role: principal-arn or
	// assume-role.
	AttrVia = "Via"
	// Unverified is AttrEffectiveValue when the role may put but not list
	// its settings.
	Unverified = "unverified"
)

// OnDelete says what deleting an opt-in does to the role's setting.
type OnDelete string

const (
	// OnDeleteRetain leaves the setting as it is (the default): instances
	// launched later with the role keep getting trunk ENIs.
	OnDeleteRetain OnDelete = "retain"
	// OnDeleteDisable sets the role's setting to disabled.
	OnDeleteDisable OnDelete = "disable"
)

// Valid reports whether d is one of the OnDelete values.
func (d OnDelete) Valid() bool { return d == OnDeleteRetain || d == OnDeleteDisable }

// Action is what one custom-resource event came to, as the handler logs it
// in the "action" field.
type Action string

const (
	ActionCreated Action = "created"
	ActionUpdated Action = "updated"
	// ActionDisabled: a Delete with OnDelete=disable set the setting to disabled.
	ActionDisabled Action = "disabled"
	// ActionRetained: a Delete with OnDelete=retain left the setting alone.
	ActionRetained Action = "retained"
	// ActionSkipped: a Delete found nothing this function made.
	ActionSkipped Action = "skipped"
	// ActionLeftUnchanged: a Delete could not undo the setting and answered
	// SUCCESS anyway, so the stack can still be deleted.
	ActionLeftUnchanged Action = "left-unchanged"
	ActionFailed        Action = "failed"
)

// PropagationWaitEnv is the handler's environment variable for how long it
// retries an AssumeRole denied because IAM has not propagated a new role or
// trust policy yet (a Go duration such as "90s").
const PropagationWaitEnv = "TRUNKCTL_PROPAGATION_WAIT"

// AllowedRolesEnv is the handler's optional allow-list: comma-separated
// exact role ARNs it may act for (besides being in its own account). Unset
// or empty: every role of its own account; set: only those listed (empty
// entries are ignored, so "," allows none).
const AllowedRolesEnv = "TRUNKCTL_ALLOWED_ROLE_ARNS"

// ECS agent variables (ecs.config keys) that trunking needs.
const (
	ECSCluster              = "ECS_CLUSTER"
	ECSEnableTaskENI        = "ECS_ENABLE_TASK_ENI"
	ECSEnableHighDensityENI = "ECS_ENABLE_HIGH_DENSITY_ENI"
	ECSAWSVPCBlockIMDS      = "ECS_AWSVPC_BLOCK_IMDS"
)

// AgentVariable is one KEY=VALUE line of ecs.config.
type AgentVariable struct {
	Key, Value string
}

// TrunkingAgentConfig is what every trunk-ready container instance gets in
// ecs.config besides ECS_CLUSTER, in file order: task ENIs, high-density ENIs
// (trunking), and whether awsvpc tasks are kept from instance metadata.
func TrunkingAgentConfig(blockTaskIMDS bool) []AgentVariable {
	block := "true"
	if !blockTaskIMDS {
		block = "false"
	}
	return []AgentVariable{
		{Key: ECSEnableTaskENI, Value: "true"},
		{Key: ECSEnableHighDensityENI, Value: "true"},
		{Key: ECSAWSVPCBlockIMDS, Value: block},
	}
}

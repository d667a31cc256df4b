package doctor

// CheckDoc is one check the judge has, with what it looks at.
type CheckDoc struct {
	Name string
	Doc  string
}

// Checks are every check the judge has, in the order `trunkctl doctor
// --help` lists them. A test holds the list against the Check constants and
// the findings the judge makes, so the help cannot drift from the judge.
func Checks() []CheckDoc {
	return []CheckDoc{
		{CheckCluster, "the cluster has container instances"},
		{CheckServiceLinked, "AWSServiceRoleForECS exists (iam:GetRole)"},
		{CheckRoleOptIn, "awsvpcTrunking is enabled for each instance role; enabled only through the account default is an error while its instances lack trunks; roles of ECS Managed Instances need nothing"},
		{CheckInstance, "each container instance's verdict, as trunkctl instances shows it, with its remedy (none, replace, enable-then-replace, fix-host, fix-launch, wait, not-applicable)"},
		{CheckAgentOS, "agent >= " + MinAgent + " on Amazon Linux, >= " + MinAgentNonAmzn + " elsewhere"},
		{CheckDNSARecord, "resource-based DNS A records, which keep an instance from a trunk"},
		{CheckSharedSubnet, "instances in subnets shared from another account (RAM), which cannot trunk"},
		{CheckNextInstance, "what the capacity providers' groups launch next: launch template DNS A records, instance types (mixed instances overrides), subnets"},
		{CheckManagedInstances, "capacity providers of ECS Managed Instances (ECS trunks them itself)"},
		{CheckServiceEvents, "services' RESOURCE:ENI placement failures, naming the instance"},
		{CheckStoppedTasks, "tasks stopped because their ENI could not be attached"},
		{CheckStuckProvisioning, "tasks PROVISIONING longer than --stuck-after, with their attachment"},
		{CheckCapacity, "instances whose awsvpc tasks reached the limit"},
		{CheckOptInRecord, "CloudTrail could not be read for when roles were opted in"},
		{CheckTrunkENIFixed, "said once: what cannot be changed about trunk ENIs"},
		{CheckSummary, "counts"},
	}
}

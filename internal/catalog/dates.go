package catalog

// DataDates says how current the embedded data is, as the sources date it
// (see shared/data/README.md): update them when the CSV files are copied again.
type DataDates struct {
	// ECSTaskLimits is when ECS last changed its published table of task
	// limits (the developer guide's container-instance-eni.md).
	ECSTaskLimits string `json:"ecsTaskLimits"`
	// EC2NetworkLimits is when the EC2 per-type network limits were generated
	// (amazon-vpc-resource-controller-k8s pkg/aws/vpc/limits.go).
	EC2NetworkLimits string `json:"ec2NetworkLimits"`
}

// EmbeddedDataDates returns the dates of the data Default is built from.
func EmbeddedDataDates() DataDates {
	return DataDates{ECSTaskLimits: "2023-04-18", EC2NetworkLimits: "2026-03-20"}
}

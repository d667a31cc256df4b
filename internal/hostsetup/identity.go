package hostsetup

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// IMDSAPI is the part of the SDK's imds client hostbootstrap uses, with
// the SDK's exact signatures.
type IMDSAPI interface {
	GetInstanceIdentityDocument(ctx context.Context, params *imds.GetInstanceIdentityDocumentInput, optFns ...func(*imds.Options)) (*imds.GetInstanceIdentityDocumentOutput, error)
	GetMetadata(ctx context.Context, params *imds.GetMetadataInput, optFns ...func(*imds.Options)) (*imds.GetMetadataOutput, error)
}

// NewIMDSClient returns an IMDSv2-only client: a failure to get a session
// token is an error, never a silent IMDSv1 request. The endpoint comes from
// AWS_EC2_METADATA_SERVICE_ENDPOINT when set.
func NewIMDSClient() *imds.Client {
	return imds.New(imds.Options{EnableFallback: aws.FalseTernary})
}

// Identity is what the instance identity document says about this host.
type Identity struct {
	InstanceID   string
	InstanceType string
	Region       string
	Architecture string // as IMDS reports it: x86_64 or arm64
}

func readIdentity(ctx context.Context, c IMDSAPI) (Identity, error) {
	out, err := c.GetInstanceIdentityDocument(ctx, &imds.GetInstanceIdentityDocumentInput{})
	if err != nil {
		return Identity{}, fmt.Errorf("read the instance identity document through IMDSv2: %w", err)
	}
	d := out.InstanceIdentityDocument
	id := Identity{InstanceID: d.InstanceID, InstanceType: d.InstanceType, Region: d.Region, Architecture: d.Architecture}
	if id.InstanceID == "" || id.InstanceType == "" || id.Region == "" || id.Architecture == "" {
		return id, fmt.Errorf("the instance identity document lacks a field: %+v", id)
	}
	return id, nil
}

// getMetadata reads one small metadata path.
func getMetadata(ctx context.Context, c IMDSAPI, path string) (string, error) {
	out, err := c.GetMetadata(ctx, &imds.GetMetadataInput{Path: path})
	if err != nil {
		return "", fmt.Errorf("read %s from IMDS: %w", path, err)
	}
	defer out.Content.Close()
	b, err := io.ReadAll(io.LimitReader(out.Content, 64<<10))
	if err != nil {
		return "", fmt.Errorf("read %s from IMDS: %w", path, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// interfaces returns the MAC addresses IMDS lists, sorted.
func interfaces(ctx context.Context, c IMDSAPI) ([]string, error) {
	s, err := getMetadata(ctx, c, "network/interfaces/macs/")
	if err != nil {
		return nil, err
	}
	var macs []string
	for _, l := range strings.Split(s, "\n") {
		if m := strings.TrimSuffix(strings.TrimSpace(l), "/"); m != "" && !slices.Contains(macs, m) {
			macs = append(macs, m)
		}
	}
	slices.Sort(macs)
	return macs, nil
}

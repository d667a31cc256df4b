package hostsetup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/trunkctl/trunkctl/internal/validate"
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
		return id, &IdentityError{Reason: fmt.Sprintf("the instance identity document lacks a field: %+v", id)}
	}
	// The values end up in URLs, file names and logs: refuse what cannot be real.
	for _, err := range []error{
		validate.InstanceID("instanceId", id.InstanceID),
		validate.Region("region", id.Region),
	} {
		if err != nil {
			return id, &IdentityError{Reason: "the instance identity document is not credible: " + err.Error()}
		}
	}
	if !instanceTypeRe.MatchString(id.InstanceType) {
		return id, &IdentityError{Reason: fmt.Sprintf("the instance identity document is not credible: instanceType %q is not an instance type", id.InstanceType)}
	}
	return id, nil
}

var instanceTypeRe = regexp.MustCompile(`^[a-z0-9-]{1,32}\.[a-z0-9-]{1,32}$`)

// IdentityError is an identity document that answered but cannot be used.
type IdentityError struct{ Reason string }

func (e *IdentityError) Error() string { return e.Reason }

// retryableIMDS reports whether an IMDS failure may pass: a timeout (a slow
// or not yet reachable IMDS) or a 5xx. Garbage answers, 4xx and a refused
// connection (nothing listens: IMDS is off) will not change.
func retryableIMDS(err error) bool {
	var ie *IdentityError
	if errors.As(err, &ie) {
		return false
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode() >= 500
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
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

package imdsmock_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/trunkctl/trunkctl/internal/testutil/imdsmock"
)

func TestTheMockServesTheConfiguredIdentityOverIMDSv2Only(t *testing.T) {
	s := imdsmock.Start(t, imdsmock.Instance{InstanceType: "m5.large", Region: "cn-north-1", Architecture: "arm64", ExtraInterface: true})
	s.Env(t)
	client := imds.New(imds.Options{EnableFallback: aws.FalseTernary})
	ctx := context.Background()

	doc, err := client.GetInstanceIdentityDocument(ctx, &imds.GetInstanceIdentityDocumentInput{})
	if err != nil {
		t.Fatalf("identity document: %v\n%s", err, s.Log())
	}
	if doc.InstanceType != "m5.large" || doc.Region != "cn-north-1" || doc.Architecture != "arm64" || doc.InstanceID != "i-0123456789abcdef0" {
		t.Errorf("identity document %+v", doc.InstanceIdentityDocument)
	}
	out, err := client.GetMetadata(ctx, &imds.GetMetadataInput{Path: "network/interfaces/macs/"})
	if err != nil {
		t.Fatal(err)
	}
	macs, _ := io.ReadAll(out.Content)
	if got := string(macs); !strings.Contains(got, imdsmock.PrimaryMAC) || !strings.Contains(got, imdsmock.ExtraMAC) {
		t.Errorf("macs/ lists %q, want both interfaces", got)
	}

	resp, err := http.Get(s.URL + "/latest/meta-data/instance-type")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an IMDSv1 request got HTTP %d, want 401", resp.StatusCode)
	}
}

func TestWithoutExtraInterfaceOnlyThePrimaryInterfaceIsListed(t *testing.T) {
	s := imdsmock.Start(t, imdsmock.Instance{})
	s.Env(t)
	client := imds.New(imds.Options{EnableFallback: aws.FalseTernary})
	out, err := client.GetMetadata(context.Background(), &imds.GetMetadataInput{Path: "network/interfaces/macs/"})
	if err != nil {
		t.Fatal(err)
	}
	macs, _ := io.ReadAll(out.Content)
	if got := strings.TrimSpace(string(macs)); got != imdsmock.PrimaryMAC+"/" {
		t.Errorf("macs/ lists %q, want only %s/", got, imdsmock.PrimaryMAC)
	}
}

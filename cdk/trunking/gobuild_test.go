package trunking_test

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/stacks"
	"github.com/trunkctl/trunkctl/cdk/trunking"
)

func TestGoBuildBuildsTheLambdaAsAStaticLinuxArm64Bootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Lambda")
	}
	out := t.TempDir()
	b := trunking.GoBuild{Package: "./lambda", Output: "bootstrap", GOARCH: "arm64", Tags: []string{"lambda.norpc"}}
	if ok := b.TryBundle(&out, nil); ok == nil || !*ok {
		t.Fatalf("TryBundle = %v", ok)
	}
	f, err := elf.Open(filepath.Join(out, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.OSABI != elf.ELFOSABI_NONE {
		t.Errorf("bootstrap is %v/%v, want an arm64 Linux binary", f.Machine, f.OSABI)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("bootstrap is dynamically linked; provided.al2023 needs a static binary")
		}
	}
}

func TestGoBuildFailsLoudlyWithTheCompilerOutput(t *testing.T) {
	out := t.TempDir()
	defer func() {
		msg := fmt.Sprint(recover())
		if !strings.Contains(msg, "bundling ./does-not-exist for linux/amd64") || !strings.Contains(msg, "does-not-exist") {
			t.Errorf("panic %q, want the package and go's own error", msg)
		}
	}()
	trunking.GoBuild{Package: "./does-not-exist", Output: "x", GOARCH: "amd64"}.TryBundle(&out, nil)
}

func TestGoBuildReportsTheSha256OfWhatItBuilt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hostbootstrap")
	}
	out := t.TempDir()
	sum := new(string)
	b := trunking.GoBuild{Package: "./hostbootstrap", Output: "hostbootstrap", GOARCH: "amd64", Sha256: sum}
	if ok := b.TryBundle(&out, nil); ok == nil || !*ok {
		t.Fatalf("TryBundle = %v", ok)
	}
	data, err := os.ReadFile(filepath.Join(out, "hostbootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	if *sum != hex.EncodeToString(want[:]) {
		t.Errorf("Sha256 = %q, want %x", *sum, want)
	}
}

// With bundling on, the hostbootstrap asset's user data checks the SHA-256
// of the binary the CDK built and uploads (through jsii's call of TryBundle).
func TestTheHostBootstrapAssetsUserDataChecksTheBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes with bundling")
	}
	app := stacks.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("Bundled"), nil)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(1), NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{Name: jsii.String("Private"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}}})
	cluster := awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: vpc})
	capacity := trunking.NewTrunkCapacity(stack, "Capacity", &trunking.TrunkCapacityProps{
		Cluster: cluster, Trunking: trunking.NewEniTrunking(stack, "Trunking", &trunking.EniTrunkingProps{Code: awslambda.Code_FromBucket(awss3.Bucket_FromBucketName(stack, jsii.String("Code"), jsii.String("code-bucket")), jsii.String("lambda.zip"), nil)}),
		Image: trunking.ImageAL2023HostBootstrap, VpcSubnets: &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
	})
	if len(capacity.HostBootstrapSha256) != 64 || capacity.HostBootstrapSha256 == strings.Repeat("0", 64) {
		t.Fatalf("HostBootstrapSha256 = %q, want the built binary's", capacity.HostBootstrapSha256)
	}
	asm := app.Synth(nil)
	var found bool
	_ = filepath.WalkDir(*asm.Directory(), func(path string, d fs.DirEntry, err error) error {
		// The staged asset: asset.HASH/hostbootstrap, or the file asset.HASH itself.
		if err != nil || d.IsDir() || !strings.Contains(path, "asset.") {
			return nil
		}
		data, _ := os.ReadFile(path)
		s := sha256.Sum256(data)
		found = found || hex.EncodeToString(s[:]) == capacity.HostBootstrapSha256
		return nil
	})
	if !found {
		t.Errorf("no staged hostbootstrap in %s has SHA-256 %s", *asm.Directory(), capacity.HostBootstrapSha256)
	}
	tpl, _ := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if !strings.Contains(string(tpl), "want='"+capacity.HostBootstrapSha256+"'") {
		t.Errorf("user data does not check %s", capacity.HostBootstrapSha256)
	}
}

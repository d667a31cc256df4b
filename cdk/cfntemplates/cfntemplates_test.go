package cfntemplates_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trunkctl/trunkctl/cdk/cfntemplates"
	"github.com/trunkctl/trunkctl/cdk/internal/cdktest"
	"github.com/trunkctl/trunkctl/cdk/stacks"
	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

// committedDir is templates/ at the repository root.
var committedDir = filepath.Join("..", "..", "templates")

var (
	once      sync.Once
	generated map[string][]byte
	genErr    error
)

func generate(t *testing.T) map[string][]byte {
	t.Helper()
	cdktest.SkipIfShort(t)
	once.Do(func() {
		dir, err := os.MkdirTemp("", "cfntemplates-test-")
		if err != nil {
			genErr = err
			return
		}
		defer os.RemoveAll(dir)
		generated, genErr = cfntemplates.Generate(dir)
	})
	if genErr != nil {
		t.Fatalf("generate: %v", genErr)
	}
	return generated
}

func TestCommittedTemplatesMatchTheCode(t *testing.T) {
	gen := generate(t)
	names := make([]string, 0, len(gen))
	for name := range gen {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name+" is what make templates writes", func(t *testing.T) {
			committed, err := os.ReadFile(filepath.Join(committedDir, name))
			if err != nil {
				t.Fatalf("%v; run make templates", err)
			}
			if !bytes.Equal(committed, gen[name]) {
				t.Errorf("templates/%s differs from what the stacks generate; run `make templates` and commit the result\n%s",
					name, firstDifference(committed, gen[name]))
			}
		})
	}
	err := filepath.WalkDir(committedDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		name, err := filepath.Rel(committedDir, path)
		if err != nil {
			return err
		}
		if gen[filepath.ToSlash(name)] == nil {
			t.Errorf("templates/%s is no longer generated; delete it", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTemplatesDeployWithoutTheCDK(t *testing.T) {
	for name, body := range generate(t) {
		var tpl struct {
			Parameters map[string]struct {
				Type    string `yaml:"Type"`
				Default string `yaml:"Default"`
			} `yaml:"Parameters"`
			Resources map[string]struct {
				Type     string                 `yaml:"Type"`
				Metadata map[string]interface{} `yaml:"Metadata"`
			} `yaml:"Resources"`
			Rules map[string]interface{} `yaml:"Rules"`
		}
		if err := yaml.Unmarshal(body, &tpl); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		codeParams := []string{stacks.ParamLambdaCodeBucket, stacks.ParamLambdaCodeKey}
		switch name {
		case cfntemplates.OrgMemberFile: // BUCKET_PREFIX-REGION
			codeParams = []string{stacks.ParamBucketPrefix, stacks.ParamLambdaCodeKey}
		case cfntemplates.OrgArtifactBucketFile: // holds the zip
			codeParams = nil
		}
		t.Run(name+" takes the Lambda zip's bucket and key as parameters", func(t *testing.T) {
			for _, p := range codeParams {
				if tpl.Parameters[p].Type != "String" {
					t.Errorf("parameter %s: %+v", p, tpl.Parameters[p])
				}
			}
		})
		t.Run(name+" needs no CDK bootstrap, assets or metadata", func(t *testing.T) {
			if _, ok := tpl.Parameters["BootstrapVersion"]; ok || tpl.Rules["CheckBootstrapVersion"] != nil {
				t.Error("has the CDK bootstrap version check")
			}
			for _, bad := range []string{"cdk-hnb659fds", "AWS::CDK::Metadata", "aws:cdk:path", "aws:asset:"} {
				if bytes.Contains(body, []byte(bad)) {
					t.Errorf("contains %q", bad)
				}
			}
		})
	}
	t.Run("the opt-in template lets the deployer choose what deletion does", func(t *testing.T) {
		var tpl struct {
			Parameters map[string]struct {
				AllowedValues []string `yaml:"AllowedValues"`
				Default       string   `yaml:"Default"`
			} `yaml:"Parameters"`
			Resources map[string]struct {
				Type       string `yaml:"Type"`
				Properties struct {
					OnDelete map[string]string `yaml:"OnDelete"`
				} `yaml:"Properties"`
			} `yaml:"Resources"`
		}
		if err := yaml.Unmarshal(generate(t)[cfntemplates.EniTrunkingFile], &tpl); err != nil {
			t.Fatal(err)
		}
		p := tpl.Parameters[stacks.ParamOnDelete]
		if strings.Join(p.AllowedValues, ",") != "retain,disable" || p.Default != "retain" {
			t.Errorf("parameter %s: %+v", stacks.ParamOnDelete, p)
		}
		for id, r := range tpl.Resources {
			if r.Type == "Custom::EniTrunking" && r.Properties.OnDelete["Ref"] != stacks.ParamOnDelete {
				t.Errorf("%s: OnDelete %v, want a Ref to the parameter", id, r.Properties.OnDelete)
			}
		}
	})
	t.Run("the plain AL2023 cluster template downloads hostbootstrap named by parameters", func(t *testing.T) {
		body := string(generate(t)[cfntemplates.TrunkClusterAL2023File])
		for _, want := range []string{
			"  " + stacks.ParamHostBootstrapBucket + ":\n    Type: String\n",
			"  " + stacks.ParamHostBootstrapKey + ":\n    Type: String\n",
			"aws s3 cp 's3://\n                - Ref: " + stacks.ParamHostBootstrapBucket + "\n                - /\n                - Ref: " + stacks.ParamHostBootstrapKey,
			"  " + cfntemplates.ParamAL2023Ami + ":\n    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>\n    Default: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64",
			"Sid: ReadHostBootstrap",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks\n%s", cfntemplates.TrunkClusterAL2023File, want)
			}
		}
	})
	t.Run("the cluster template names its AMI parameter", func(t *testing.T) {
		body := generate(t)[cfntemplates.TrunkClusterFile]
		if !bytes.Contains(body, []byte("  "+cfntemplates.ParamEcsAmi+":\n    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>\n    Default: /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id")) {
			t.Error("no EcsOptimizedAmi parameter defaulting to the ECS-optimized AL2023 AMI")
		}
	})
}

func TestCfnLintFindsNothingInAnyTemplate(t *testing.T) {
	t.Parallel() // cfn-lint takes seconds to start; overlap it with the synth
	if testing.Short() {
		t.Skip("cfn-lint is a peer; skipped with -short")
	}
	lint := peer.LookPath(t, "cfn-lint", "pip install cfn-lint")
	files, err := filepath.Glob(filepath.Join(committedDir, "*.yaml"))
	org, orgErr := filepath.Glob(filepath.Join(committedDir, "org", "*.yaml"))
	if err != nil || orgErr != nil || len(files) == 0 || len(org) == 0 {
		t.Fatalf("no templates in %s or its org/ (%v, %v)", committedDir, err, orgErr)
	}
	files = append(files, org...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// One run for all files. Errors and warnings both fail (a non-empty
	// report); informational notes are off by default.
	out, err := exec.CommandContext(ctx, lint, append([]string{"--format", "parseable", "--"}, files...)...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("cfn-lint %v: %v\n%s", files, err, out)
	}
}

func TestToYAMLKeepsStringsStrings(t *testing.T) {
	got, err := cfntemplates.ToYAML([]byte(`{"A":"2012-10-17","B":"true","C":1,"D":"-1","E":"line1\nline2","F":["x",{"Ref":"Y"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]interface{}
	if err := yaml.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]interface{}{"A": "2012-10-17", "B": "true", "C": 1, "D": "-1", "E": "line1\nline2"} {
		if back[k] != want {
			t.Errorf("%s: %#v after the round trip, want %#v\n%s", k, back[k], want, got)
		}
	}
	if !strings.HasPrefix(string(got), "# Generated by `make templates`") {
		t.Errorf("no header:\n%s", got)
	}
}

func firstDifference(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + itoa(i+1) + ":\n  committed: " + x + "\n  generated: " + y
		}
	}
	return ""
}

func itoa(n int) string {
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

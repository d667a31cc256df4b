package stacks_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/internal/cdktest"
	"github.com/trunkctl/trunkctl/cdk/stacks"
)

// The CDK CLI prints "N feature flags are not configured" after a synth for
// every flag of the assembly's feature-flag report that has no user value and
// whose unset behaviour differs from its recommended value. The app
// configures every one of them, so `cdk synth` prints no such line.
func TestTheAppLeavesNoFeatureFlagUnconfigured(t *testing.T) {
	cdktest.SkipIfShort(t)
	out := t.TempDir()
	ctx := cdktest.NoBundling()
	app := stacks.NewApp(&awscdk.AppProps{Outdir: jsii.String(out), Context: &ctx})
	stacks.NewEniTrunkingStack(app, stacks.EniTrunkingStackID, nil)
	app.Synth(nil)

	raw, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		Artifacts map[string]struct {
			Type       string `json:"type"`
			Properties struct {
				Flags map[string]struct {
					UserValue               interface{} `json:"userValue"`
					RecommendedValue        interface{} `json:"recommendedValue"`
					UnconfiguredBehavesLike *struct {
						V2 interface{} `json:"v2"`
					} `json:"unconfiguredBehavesLike"`
				} `json:"flags"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	reports, unconfigured := 0, []string{}
	for _, a := range manifest.Artifacts {
		if a.Type != "cdk:feature-flag-report" {
			continue
		}
		reports++
		if len(a.Properties.Flags) < 50 {
			t.Fatalf("the feature-flag report lists %d flags; expected the library's whole list", len(a.Properties.Flags))
		}
		for name, f := range a.Properties.Flags {
			var unset interface{} = false
			if f.UnconfiguredBehavesLike != nil && f.UnconfiguredBehavesLike.V2 != nil {
				unset = f.UnconfiguredBehavesLike.V2
			}
			if f.UserValue == nil && !reflect.DeepEqual(unset, f.RecommendedValue) {
				unconfigured = append(unconfigured, name)
			}
		}
	}
	if reports != 1 {
		t.Fatalf("the assembly has %d feature-flag reports, want 1", reports)
	}
	if len(unconfigured) > 0 {
		t.Errorf("%d feature flags are not configured (add each to stacks.FeatureFlags with a reason, or pin it to its unset behaviour): %v",
			len(unconfigured), unconfigured)
	}
}

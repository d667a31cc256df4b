package stacks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// NewTemplateApp returns an app whose stacks synthesize to plain templates
// (templates/): no CDK metadata, version reporting or bundling, written to
// outdir.
func NewTemplateApp(outdir string) awscdk.App {
	return NewApp(&awscdk.AppProps{
		Outdir: jsii.String(outdir),
		Context: &map[string]interface{}{
			"aws:cdk:enable-path-metadata": false,
			"aws:cdk:version-reporting":    false,
			// No assets are expected; if one sneaks in, do not build it.
			"aws:cdk:bundling-stacks": []interface{}{},
		},
	})
}

// TemplateStackProps are the stack props of the templates/ variants: no
// CDK bootstrap version parameter or rule, no analytics.
func TemplateStackProps() awscdk.StackProps {
	return awscdk.StackProps{
		AnalyticsReporting: jsii.Bool(false),
		Synthesizer: awscdk.NewDefaultStackSynthesizer(&awscdk.DefaultStackSynthesizerProps{
			GenerateBootstrapVersionRule: jsii.Bool(false),
		}),
	}
}

// OrgMemberTemplate synthesizes OrgMemberStack in an app of its own and
// returns the template as compact JSON: the StackSet's TemplateBody, and the
// source of templates/org/eni-trunking-member.yaml.
func OrgMemberTemplate() ([]byte, error) {
	dir, err := os.MkdirTemp("", "org-member-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	app := NewTemplateApp(dir)
	NewOrgMemberStack(app, OrgMemberStackID, &OrgMemberStackProps{StackProps: TemplateStackProps()})
	app.Synth(nil)
	js, err := os.ReadFile(filepath.Join(dir, OrgMemberStackID+".template.json")) //nolint:gosec // our own temp dir and stack id
	if err != nil {
		return nil, fmt.Errorf("read synthesized %s: %w", OrgMemberStackID, err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, js); err != nil {
		return nil, fmt.Errorf("%s: %w", OrgMemberStackID, err)
	}
	return buf.Bytes(), nil
}

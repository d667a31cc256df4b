package trunking_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/trunkctl/trunkctl/cdk/internal/cdktest"
	"github.com/trunkctl/trunkctl/cdk/stacks"
	"github.com/trunkctl/trunkctl/cdk/trunking"
)

const (
	importedRoleArn         = "arn:aws:iam::123456789012:role/ops/existing-instances"
	existingFunctionRoleArn = "arn:aws:iam::123456789012:role/trunkctl-optin"
)

// subject is a stack using both constructs, synthesized once for all tests.
type subject struct {
	stack      awscdk.Stack
	tpl        *cdktest.Template
	newRole    awsiam.Role
	optIn      *trunking.EniTrunking
	capacity   *trunking.TrunkCapacity
	cluster    awsecs.Cluster
	hbStack    awscdk.Stack
	hbTpl      *cdktest.Template
	hbCapacity *trunking.TrunkCapacity
	hbOptIn    *trunking.EniTrunking
}

var (
	once sync.Once
	subj subject
)

func newClusterIn(stack awscdk.Stack) awsecs.Cluster {
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(1)})
	return awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: vpc})
}

// GIVEN one app with two stacks, bundling skipped:
//   - Subject: a role created here and an imported role, both opted in with
//     OnDelete disable, and ECS-optimized capacity on c5.large;
//   - HostBootstrapSubject: plain AL2023 capacity on c8g.large (Graviton, not
//     in ECS's published table) that installs hostbootstrap from an asset.
func get(t *testing.T) *subject {
	t.Helper()
	cdktest.SkipIfShort(t)
	once.Do(func() {
		app := stacks.NewApp(&awscdk.AppProps{Context: ptr(cdktest.NoBundling())})
		s := &subj
		s.stack = awscdk.NewStack(app, jsii.String("Subject"), nil)
		s.cluster = newClusterIn(s.stack)
		s.newRole = trunking.NewInstanceRole(s.stack, "InstanceRole")
		imported := awsiam.Role_FromRoleArn(s.stack, jsii.String("ImportedRole"), jsii.String(importedRoleArn), nil)
		s.optIn = trunking.NewEniTrunking(s.stack, "Trunking", &trunking.EniTrunkingProps{
			Roles:       []awsiam.IRole{s.newRole, imported},
			OnDelete:    trunking.OnDeleteDisable,
			Environment: map[string]string{trunking.PropagationWaitEnv: "30s"},
		})
		s.capacity = trunking.NewTrunkCapacity(s.stack, "Capacity", &trunking.TrunkCapacityProps{
			Cluster: s.cluster, Trunking: s.optIn, Role: s.newRole,
		})

		s.hbStack = awscdk.NewStack(app, jsii.String("HostBootstrapSubject"), nil)
		hbCluster := newClusterIn(s.hbStack)
		// No roles given: the construct makes the instance role.
		hbOptIn := trunking.NewEniTrunking(s.hbStack, "Trunking", nil)
		s.hbOptIn = hbOptIn
		s.hbCapacity = trunking.NewTrunkCapacity(s.hbStack, "Capacity", &trunking.TrunkCapacityProps{
			Cluster: hbCluster, Trunking: hbOptIn, InstanceType: "c8g.large", Image: trunking.ImageAL2023HostBootstrap,
			HostBootstrapArgs: []string{"--wait", "5m"},
		})
		// Both roles exist already: the function uses the role the instance
		// role trusts.
		trunking.NewEniTrunking(s.hbStack, "ExistingRoles", &trunking.EniTrunkingProps{
			Roles:        []awsiam.IRole{awsiam.Role_FromRoleArn(s.hbStack, jsii.String("ExistingInstanceRole"), jsii.String(importedRoleArn), nil)},
			FunctionRole: awsiam.Role_FromRoleArn(s.hbStack, jsii.String("ExistingFunctionRole"), jsii.String(existingFunctionRoleArn), nil),
		})
		s.tpl = cdktest.FromStack(t, s.stack)
		s.hbTpl = cdktest.FromStack(t, s.hbStack)
	})
	if subj.tpl == nil {
		t.Fatal("the subject stacks did not synthesize")
	}
	return &subj
}

func ptr[T any](v T) *T { return &v }

func TestEniTrunking(t *testing.T) {
	s := get(t)
	tpl := s.tpl
	newRoleID := cdktest.LogicalID(s.stack, s.newRole)
	fnID := cdktest.LogicalID(s.stack, s.optIn.Function)
	fnRoleID := cdktest.LogicalID(s.stack, s.optIn.FunctionRole)
	logGroupID := cdktest.LogicalID(s.stack, s.optIn.LogGroup)

	t.Run("the function is the Go handler on provided.al2023 arm64 and is never retried", func(t *testing.T) {
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String("AWS::Lambda::Function"), assertions.Match_ObjectLike(&map[string]interface{}{
				"Runtime":       "provided.al2023",
				"Architectures": []string{"arm64"},
				"Handler":       "bootstrap",
				"Timeout":       120,
				"Environment":   map[string]interface{}{"Variables": map[string]interface{}{trunking.PropagationWaitEnv: "30s"}},
				"LoggingConfig": map[string]interface{}{"LogGroup": map[string]interface{}{"Ref": logGroupID}},
			}))
		})
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]interface{}{
				"FunctionName": map[string]interface{}{"Ref": fnID}, "MaximumRetryAttempts": 0, "Qualifier": "$LATEST",
			})
		})
	})

	t.Run("the function role may assume and look up (iam:GetRole) exactly the opted-in roles and write its own logs", func(t *testing.T) {
		fnRole := tpl.Resources[fnRoleID]
		if fnRole.Properties["ManagedPolicyArns"] != nil || fnRole.Properties["Policies"] != nil {
			t.Errorf("function role has policies beyond its own: %v", fnRole.Properties)
		}
		var assumable, gettable, other []string
		for _, st := range tpl.PolicyStatements(t, fnRoleID) {
			if st.Effect != "Allow" {
				continue
			}
			for _, a := range st.Actions() {
				switch a {
				case "sts:AssumeRole":
					assumable = append(assumable, st.Resources()...)
				case "iam:GetRole":
					gettable = append(gettable, st.Resources()...)
				case "logs:CreateLogStream", "logs:PutLogEvents":
					if got := st.Resources(); !slices.Equal(got, []string{cdktest.GetAtt(logGroupID, "Arn")}) {
						t.Errorf("%s on %v, want only its log group", a, got)
					}
				default:
					other = append(other, a)
				}
			}
		}
		want := []string{cdktest.JSON(importedRoleArn), cdktest.GetAtt(newRoleID, "Arn")}
		sort.Strings(assumable)
		sort.Strings(want)
		if !slices.Equal(assumable, want) {
			t.Errorf("sts:AssumeRole on %v, want exactly %v", assumable, want)
		}
		sort.Strings(gettable)
		if !slices.Equal(gettable, want) {
			t.Errorf("iam:GetRole on %v, want exactly %v", gettable, want)
		}
		if len(other) > 0 {
			t.Errorf("unexpected actions %v", other)
		}
	})

	t.Run("the function acts only for the opted-in roles: its allow-list names exactly them", func(t *testing.T) {
		env := cdktest.JSON(tpl.Resources[fnID].Properties["Environment"])
		want := `"` + trunking.AllowedRolesEnv + `":{"Fn::Join":[",",[` + cdktest.GetAtt(newRoleID, "Arn") + `,` + cdktest.JSON(importedRoleArn) + `]]}`
		if !strings.Contains(env, want) {
			t.Errorf("function environment %s lacks %s", env, want)
		}
	})

	t.Run("every opt-in waits for the function's no-retry invoke configuration", func(t *testing.T) {
		var cfgID string
		for id, r := range tpl.Resources {
			if r.Type == "AWS::Lambda::EventInvokeConfig" {
				cfgID = id
			}
		}
		for _, o := range s.optIn.OptIns() {
			id := cdktest.LogicalID(s.stack, o.Resource)
			if deps := cdktest.JSON(tpl.Resources[id].DependsOn); cfgID == "" || !strings.Contains(deps, `"`+cfgID+`"`) {
				t.Errorf("opt-in %s DependsOn %s, want %s among them", id, deps, cfgID)
			}
		}
	})

	t.Run("the created role trusts EC2 and the function role; the imported role gets a warning instead", func(t *testing.T) {
		doc := cdktest.JSON(tpl.Resources[newRoleID].Properties["AssumeRolePolicyDocument"])
		for _, want := range []string{`"Service":"ec2.amazonaws.com"`, `"AWS":` + cdktest.GetAtt(fnRoleID, "Arn")} {
			if !strings.Contains(doc, want) {
				t.Errorf("trust policy %s lacks %s", doc, want)
			}
		}
		cdktest.Check(t, func() {
			assertions.Annotations_FromStack(s.stack).HasWarning(jsii.String("/Subject/Trunking"),
				assertions.Match_StringLikeRegexp(jsii.String("role ImportedRole is imported: its trust policy must allow")))
		})
	})

	t.Run("each opted-in role may put only this setting and read its settings", func(t *testing.T) {
		for _, roleID := range []string{newRoleID} {
			var puts, lists int
			for _, st := range tpl.PolicyStatements(t, roleID) {
				for _, a := range st.Actions() {
					switch a {
					case "ecs:PutAccountSetting":
						puts++
						if got := string(st.Condition); cdktest.JSON(json.RawMessage(got)) != `{"StringEquals":{"ecs:account-setting":"awsvpcTrunking"}}` {
							t.Errorf("PutAccountSetting condition %s", got)
						}
					case "ecs:ListAccountSettings":
						lists++
					case "ecs:PutAccountSettingDefault", "ecs:DeleteAccountSetting", "ecs:*", "*":
						t.Errorf("role may call %s", a)
					}
				}
			}
			if puts != 1 || lists != 1 {
				t.Errorf("role %s: %d PutAccountSetting and %d ListAccountSettings statements, want 1 each", roleID, puts, lists)
			}
		}
		// The imported role is attached by name.
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String("AWS::IAM::Policy"), assertions.Match_ObjectLike(&map[string]interface{}{
				"Roles": []string{"existing-instances"},
				"PolicyDocument": assertions.Match_ObjectLike(&map[string]interface{}{
					"Statement": assertions.Match_ArrayWith(&[]interface{}{
						assertions.Match_ObjectLike(&map[string]interface{}{"Action": "ecs:PutAccountSetting"}),
					}),
				}),
			}))
		})
	})

	t.Run("one custom resource per role, answered by the function ARN within five minutes", func(t *testing.T) {
		cdktest.Check(t, func() { tpl.Assert.ResourceCountIs(jsii.String(trunking.ResourceType), jsii.Number(2)) })
		for _, arn := range []interface{}{map[string]interface{}{"Fn::GetAtt": []string{newRoleID, "Arn"}}, importedRoleArn} {
			cdktest.Check(t, func() {
				tpl.Assert.HasResourceProperties(jsii.String(trunking.ResourceType), map[string]interface{}{
					"ServiceToken":   map[string]interface{}{"Fn::GetAtt": []string{fnID, "Arn"}},
					"ServiceTimeout": "300",
					"RoleArn":        arn,
					"Region":         map[string]interface{}{"Ref": "AWS::Region"},
					"Setting":        "awsvpcTrunking",
					"Value":          "enabled",
					"OnDelete":       "disable",
				})
			})
		}
		if n := len(tpl.OfType("AWS::Lambda::Function")); n != 1 {
			t.Errorf("%d functions: the custom resource must not go through the Provider framework", n)
		}
	})

	t.Run("each opt-in waits for its role's account-setting policy", func(t *testing.T) {
		cr := tpl.Resources[cdktest.LogicalID(s.stack, s.optIn.OptInFor(s.newRole))]
		policyID := cdktest.LogicalID(s.stack, s.optIn.OptIns()[0].Policy)
		if !slices.Contains(cr.DependsOn, policyID) {
			t.Errorf("opt-in DependsOn %v, want %s", cr.DependsOn, policyID)
		}
	})

	t.Run("OptInFor a role that is not opted in is nil", func(t *testing.T) {
		other := awsiam.Role_FromRoleArn(s.stack, jsii.String("Other"), jsii.String("arn:aws:iam::123456789012:role/other"), nil)
		if s.optIn.OptInFor(other) != nil {
			t.Error("got an opt-in for a role that was never given")
		}
	})
}

func TestTrunkCapacity(t *testing.T) {
	s := get(t)
	tpl := s.tpl
	roleID := cdktest.LogicalID(s.stack, s.newRole)

	t.Run("the launch template requires IMDSv2 with one hop, turns off DNS A records and encrypts the root volume", func(t *testing.T) {
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String("AWS::EC2::LaunchTemplate"), map[string]interface{}{
				"LaunchTemplateData": assertions.Match_ObjectLike(&map[string]interface{}{
					"InstanceType": "c5.large",
					"MetadataOptions": map[string]interface{}{
						"HttpEndpoint": "enabled", "HttpTokens": "required", "HttpPutResponseHopLimit": 1,
					},
					"PrivateDnsNameOptions": map[string]interface{}{"EnableResourceNameDnsARecord": false},
					"BlockDeviceMappings": []interface{}{map[string]interface{}{
						"DeviceName": "/dev/xvda",
						"Ebs":        map[string]interface{}{"Encrypted": true, "VolumeSize": 30, "VolumeType": "gp3"},
					}},
				}),
			})
		})
	})

	t.Run("instances get the opted-in role's instance profile and the ECS-optimized AL2023 AMI", func(t *testing.T) {
		profileID, profile := tpl.One(t, "AWS::IAM::InstanceProfile")
		if got := cdktest.JSON(profile.Properties["Roles"]); got != "["+cdktest.Ref(roleID)+"]" {
			t.Errorf("instance profile roles %s", got)
		}
		_, lt := tpl.One(t, "AWS::EC2::LaunchTemplate")
		data := lt.Properties["LaunchTemplateData"].(map[string]interface{})
		if got := cdktest.JSON(data["IamInstanceProfile"]); got != `{"Arn":`+cdktest.GetAtt(profileID, "Arn")+`}` {
			t.Errorf("IamInstanceProfile %s", got)
		}
		params := cdktest.JSON(tpl.Raw["Parameters"])
		if !strings.Contains(params, "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id") {
			t.Errorf("no ECS-optimized AL2023 AMI parameter in %s", params)
		}
	})

	t.Run("user data turns on task ENIs and trunking, blocks task IMDS and joins the cluster", func(t *testing.T) {
		_, lt := tpl.One(t, "AWS::EC2::LaunchTemplate")
		ud := cdktest.JSON(lt.Properties["LaunchTemplateData"].(map[string]interface{})["UserData"])
		for _, want := range []string{"ECS_ENABLE_TASK_ENI=true", "ECS_ENABLE_HIGH_DENSITY_ENI=true", "ECS_AWSVPC_BLOCK_IMDS=true",
			`echo ECS_CLUSTER=","Ref":"` + cdktest.LogicalID(s.stack, s.cluster)} {
			if !strings.Contains(strings.ReplaceAll(ud, `{"`, `"`), want) {
				t.Errorf("user data %s lacks %s", ud, want)
			}
		}
		if strings.Contains(ud, "iptables") {
			t.Errorf("user data has the CDK's deprecated iptables lines: %s", ud)
		}
	})

	t.Run("the group depends on the opt-in and protects new instances from scale-in", func(t *testing.T) {
		_, asg := tpl.One(t, "AWS::AutoScaling::AutoScalingGroup")
		optInID := cdktest.LogicalID(s.stack, s.optIn.OptInFor(s.newRole))
		if !slices.Contains(asg.DependsOn, optInID) {
			t.Errorf("group DependsOn %v, want the opt-in %s", asg.DependsOn, optInID)
		}
		if asg.Properties["NewInstancesProtectedFromScaleIn"] != true {
			t.Errorf("NewInstancesProtectedFromScaleIn = %v", asg.Properties["NewInstancesProtectedFromScaleIn"])
		}
		if asg.Properties["MinSize"] != "1" || asg.Properties["MaxSize"] != "2" {
			t.Errorf("group size %v..%v, want 1..2", asg.Properties["MinSize"], asg.Properties["MaxSize"])
		}
	})

	t.Run("the capacity provider manages scaling and termination protection and is associated with the cluster", func(t *testing.T) {
		asgID, _ := tpl.One(t, "AWS::AutoScaling::AutoScalingGroup")
		cpID, _ := tpl.One(t, "AWS::ECS::CapacityProvider")
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String("AWS::ECS::CapacityProvider"), map[string]interface{}{
				"AutoScalingGroupProvider": map[string]interface{}{
					"AutoScalingGroupArn":          map[string]interface{}{"Ref": asgID},
					"ManagedScaling":               map[string]interface{}{"Status": "ENABLED", "TargetCapacity": 100},
					"ManagedTerminationProtection": "ENABLED",
				},
			})
		})
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String("AWS::ECS::ClusterCapacityProviderAssociations"), assertions.Match_ObjectLike(&map[string]interface{}{
				"Cluster":           map[string]interface{}{"Ref": cdktest.LogicalID(s.stack, s.cluster)},
				"CapacityProviders": []interface{}{map[string]interface{}{"Ref": cpID}},
			}))
		})
	})

	t.Run("the catalog verdict for c5.large is kept", func(t *testing.T) {
		if s.capacity.TasksPerInstance() != 10 || s.capacity.InstanceType.TasksWithoutTrunking != 2 {
			t.Errorf("c5.large: %+v", s.capacity.InstanceType)
		}
	})
}

func TestTrunkCapacityWithHostBootstrap(t *testing.T) {
	s := get(t)
	tpl := s.hbTpl
	_, lt := tpl.One(t, "AWS::EC2::LaunchTemplate")
	ud := cdktest.JSON(lt.Properties["LaunchTemplateData"].(map[string]interface{})["UserData"])

	t.Run("user data downloads hostbootstrap from the asset bucket and runs it for the cluster", func(t *testing.T) {
		for _, want := range []string{"aws s3 cp 's3://", "cdk-hnb659fds-assets-", trunking.HostBootstrapPath,
			"'--cluster' '", "'--require-trunking' '--wait' '5m'"} {
			if !strings.Contains(ud, want) {
				t.Errorf("user data %s lacks %q", ud, want)
			}
		}
	})

	t.Run("user data retries the fetch with backoff for a bounded time, says so on the console and fails loudly", func(t *testing.T) {
		for _, want := range []string{"until aws s3 cp", "$(( $(date +%s) + 600 ))", "sleep \\\"$delay\\\"", "/dev/console",
			"exit 1", "route to the NAT gateway", ".part", "mv -f", "set -euo pipefail"} {
			if !strings.Contains(ud, want) {
				t.Errorf("user data %s lacks %q", ud, want)
			}
		}
	})

	t.Run("the instance role may read exactly that object", func(t *testing.T) {
		roleID := cdktest.LogicalID(s.hbStack, s.hbCapacity.LaunchTemplate.Role())
		found := false
		for _, st := range tpl.PolicyStatements(t, roleID) {
			if st.Sid == "ReadHostBootstrap" {
				found = true
				if !slices.Equal(st.Actions(), []string{"s3:GetObject"}) || len(st.Resources()) != 1 ||
					!strings.Contains(st.Resources()[0], "cdk-hnb659fds-assets-") {
					t.Errorf("statement %+v", st)
				}
			}
		}
		if !found {
			t.Error("no ReadHostBootstrap statement on the instance role")
		}
	})

	t.Run("a Graviton type gets the arm64 AL2023 AMI", func(t *testing.T) {
		params := cdktest.JSON(tpl.Raw["Parameters"])
		if !strings.Contains(params, "al2023-ami-kernel-6.1-arm64") && !strings.Contains(params, "al2023-ami-kernel-default-arm64") {
			t.Errorf("no arm64 AL2023 AMI parameter in %s", params)
		}
	})

	t.Run("without roles the opt-in makes an EC2 instance role, which the capacity uses", func(t *testing.T) {
		roles := s.hbOptIn.Roles()
		if len(roles) != 1 || *roles[0].Node().Path() != "HostBootstrapSubject/Trunking/InstanceRole" {
			t.Fatalf("roles %v", roles)
		}
		roleID := cdktest.LogicalID(s.hbStack, roles[0])
		if got := cdktest.LogicalID(s.hbStack, s.hbCapacity.LaunchTemplate.Role()); got != roleID {
			t.Errorf("launch template role %s, want %s", got, roleID)
		}
		trust := cdktest.JSON(tpl.Resources[roleID].Properties["AssumeRolePolicyDocument"])
		if !strings.Contains(trust, `"Service":"ec2.amazonaws.com"`) {
			t.Errorf("trust policy %s", trust)
		}
	})

	t.Run("a trunk-capable type missing from ECS's published table is a warning that its limit is not published", func(t *testing.T) {
		cdktest.Check(t, func() {
			assertions.Annotations_FromStack(s.hbStack).HasWarning(jsii.String("/HostBootstrapSubject/Capacity"),
				assertions.Match_StringLikeRegexp(jsii.String("instance type c8g.large: trunking supported, but ECS publishes no task limit")))
		})
	})
}

func TestEniTrunkingWithAnExistingFunctionRole(t *testing.T) {
	s := get(t)
	tpl := s.hbTpl
	t.Run("the function runs as the given role, which may assume exactly the opted-in role", func(t *testing.T) {
		cdktest.Check(t, func() {
			tpl.Assert.HasResourceProperties(jsii.String("AWS::Lambda::Function"), assertions.Match_ObjectLike(&map[string]interface{}{
				"Role": existingFunctionRoleArn,
			}))
		})
		var assumable []string
		for _, id := range tpl.OfType("AWS::IAM::Policy") {
			p := tpl.Resources[id].Properties
			if cdktest.JSON(p["Roles"]) != `["trunkctl-optin"]` {
				continue
			}
			doc := cdktest.JSON(p["PolicyDocument"])
			if strings.Contains(doc, "sts:AssumeRole") {
				assumable = append(assumable, doc)
			}
		}
		if len(assumable) != 1 || !strings.Contains(assumable[0], `"Resource":"`+importedRoleArn+`"`) {
			t.Errorf("policies of the existing function role: %v", assumable)
		}
	})
}

func TestTrunkCapacityRejects(t *testing.T) {
	cases := []struct {
		name string
		edit func(p *trunking.TrunkCapacityProps, s *subject)
		want string
	}{
		{"an instance type ECS documents as unsupported", func(p *trunking.TrunkCapacityProps, _ *subject) { p.InstanceType = "t3.medium" },
			"instance type t3.medium cannot use ENI trunking"},
		{"a role that is not opted in", func(p *trunking.TrunkCapacityProps, s *subject) {
			p.Role = awsiam.Role_FromRoleArn(s.stack, jsii.String("NotOptedIn"), jsii.String("arn:aws:iam::123456789012:role/x"), nil)
		}, "is not opted in"},
	}
	s := get(t)
	for i, c := range cases {
		t.Run("synth rejects "+c.name, func(t *testing.T) {
			// WHEN capacity is added with a bad prop THEN construction panics.
			p := &trunking.TrunkCapacityProps{Cluster: s.cluster, Trunking: s.optIn, Role: s.newRole}
			c.edit(p, s)
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("panic %v, want one mentioning %q", r, c.want)
				}
			}()
			trunking.NewTrunkCapacity(s.stack, fmt.Sprintf("Rejected%d", i), p)
		})
	}
}

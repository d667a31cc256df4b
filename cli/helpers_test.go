package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/inventory/inventorytest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	adminCaller = "arn:aws:sts::123456789012:assumed-role/Admin/alice"
	roleArn     = "arn:aws:iam::123456789012:role/EcsInstanceRole"
)

// world is a fake account with one cluster whose instances show every verdict.
type world struct {
	cluster *inventorytest.Cluster
	acct    *accountsettingtest.Account
	caller  string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	c := inventorytest.New()
	c.AddRole("EcsInstanceProfile", "EcsInstanceRole")
	c.AddRole("ServiceLinked", "AWSServiceRoleForECS")
	c.AddInstance(inventorytest.InstanceSpec{N: 1, Trunk: true})
	c.AddInstance(inventorytest.InstanceSpec{N: 2})
	c.AddInstance(inventorytest.InstanceSpec{N: 3, Type: "c5n.large"})
	c.AddInstance(inventorytest.InstanceSpec{N: 4, Agent: "1.27.0", Type: "m5.large"})
	c.AddInstance(inventorytest.InstanceSpec{N: 5, Status: "REGISTRATION_FAILED", StatusReason: "Unexpected EC2 error while attempting to Create Network Interface with public IP assignment ENABLED in subnet 'subnet-0shared'"})
	c.AddInstance(inventorytest.InstanceSpec{N: 6, Type: "m7i.xlarge"})
	c.AddTask(inventorytest.TaskSpec{N: 1, Instance: 1, AWSVPC: true})
	c.AddTask(inventorytest.TaskSpec{N: 2, Instance: 1, AWSVPC: true})
	c.AddTask(inventorytest.TaskSpec{N: 3, Instance: 1}) // bridge mode: no ENI
	c.AddTask(inventorytest.TaskSpec{N: 4, Instance: 2, AWSVPC: true})
	a := accountsettingtest.New()
	a.AddRole("EcsInstanceRole", accountsettingtest.RoleState{})
	return &world{cluster: c, acct: a, caller: adminCaller}
}

// healthyWorld has only trunked instances and an enabled role.
func healthyWorld(t *testing.T) *world {
	t.Helper()
	c := inventorytest.New()
	c.AddRole("EcsInstanceProfile", "EcsInstanceRole")
	c.AddRole("ServiceLinked", "AWSServiceRoleForECS")
	c.AddInstance(inventorytest.InstanceSpec{N: 1, Trunk: true})
	c.AddInstance(inventorytest.InstanceSpec{N: 2, Trunk: true, Type: "m5.xlarge"})
	c.AddTask(inventorytest.TaskSpec{N: 1, Instance: 1, AWSVPC: true})
	c.AddTask(inventorytest.TaskSpec{N: 2, Instance: 2, AWSVPC: true})
	a := accountsettingtest.New()
	a.AddRole("EcsInstanceRole", accountsettingtest.RoleState{})
	a.SetExplicit(roleArn, accountsetting.AWSVPCTrunking, accountsetting.Enabled)
	return &world{cluster: c, acct: a, caller: adminCaller}
}

func (w *world) aws() *AWS {
	return &AWS{
		Region: "us-east-1", ECS: w.cluster.ECS(), EC2: w.cluster.EC2(), IAM: w.cluster.IAM(),
		STS: w.acct.STSAs(w.caller), Settings: w.acct.ECSAs(w.caller), NewECS: w.acct.ECSFactory(),
		AutoScaling: w.cluster.AutoScaling(), CloudTrail: w.cluster.CloudTrail(),
	}
}

// env is what a command built by a test takes: the world's clients (four
// calls in flight at most), the default catalog and a fixed clock.
func (w *world) env(s *IOStreams, output string) env {
	return env{io: s, output: output, catalog: catalog.Default(), now: testNow,
		clients: func(context.Context) (*clients, error) { return connect(w.aws(), 4, 0), nil }}
}

// isUsage reports whether err is a usage error.
func isUsage(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && ee.code == ExitUsage
}

func testNow() time.Time { return time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC) }

func (w *world) deps(s *IOStreams) Deps {
	return Deps{
		IO:      s,
		AWS:     func(context.Context, GlobalOptions, io.Writer) (*AWS, error) { return w.aws(), nil },
		Catalog: catalog.Default(),
		Now:     func() time.Time { return testNow() },
	}
}

// streams returns IOStreams on buffers; terminal says whether they act as one.
func streams(terminal bool) (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut, InIsTerminal: terminal, OutIsTerminal: terminal, ErrIsTerminal: false, NoColor: true}, out, errOut
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./cli -run %s -update to create it): %v", t.Name(), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func runCmd(t *testing.T, w *world, terminal bool, args ...string) (ExitCode, string, string) {
	t.Helper()
	s, out, errOut := streams(terminal)
	code := Run(context.Background(), args, w.deps(s))
	return code, out.String(), errOut.String()
}

// deniedAccount is an account whose EcsInstanceRole trusts nobody.
func deniedAccount() *accountsettingtest.Account {
	a := accountsettingtest.New()
	a.AddRole("EcsInstanceRole", accountsettingtest.RoleState{DenyAlways: true})
	return a
}

func sleepMillis(n int) { time.Sleep(time.Duration(n) * time.Millisecond) }

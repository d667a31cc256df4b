// Package imdsmock starts amazon-ec2-metadata-mock (v1.12.0, built by
// `make tools`) on a loopback port in IMDSv2-only mode, for tests of code
// that reads instance metadata through the SDK's imds client.
package imdsmock

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/peer"

	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

// BinaryEnv names the variable that points at the mock's executable.
const BinaryEnv = "TRUNKCTL_EC2_METADATA_MOCK"

// StartTimeout bounds how long the mock may take to answer.
const StartTimeout = 20 * time.Second

// The mock's own primary interface MAC, and the one added for ExtraInterface.
const (
	PrimaryMAC = "0e:49:61:0f:c3:11"
	ExtraMAC   = "0e:49:61:0f:c3:22"
)

// Instance is what the mock reports about the instance.
type Instance struct {
	InstanceID   string // default i-0123456789abcdef0
	InstanceType string // default c5.large
	Region       string // default us-east-1
	Architecture string // default x86_64 (IMDS says x86_64 or arm64)
	// ExtraInterface lists a second network interface (as a trunk ENI
	// would appear) besides the primary one.
	ExtraInterface bool
}

func (in Instance) withDefaults() Instance {
	if in.InstanceID == "" {
		in.InstanceID = "i-0123456789abcdef0"
	}
	if in.InstanceType == "" {
		in.InstanceType = "c5.large"
	}
	if in.Region == "" {
		in.Region = "us-east-1"
	}
	if in.Architecture == "" {
		in.Architecture = "x86_64"
	}
	return in
}

// Server is a running mock.
type Server struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41234, for
	// AWS_EC2_METADATA_SERVICE_ENDPOINT.
	URL      string
	Instance Instance
	log      *syncbuf.Buffer
}

// Binary finds the mock: $TRUNKCTL_EC2_METADATA_MOCK, then
// <module root>/bin/ec2-metadata-mock, then ec2-metadata-mock on PATH.
// When none exists it skips the test, or fails it under
// TRUNKCTL_REQUIRE_PEERS=1.
func Binary(tb testing.TB) string {
	tb.Helper()
	return peer.BuiltTool(tb, "ec2-metadata-mock", BinaryEnv)
}

// Start runs the mock for in, waits until it answers, and stops it when the
// test ends. Under -short (`make test-short`: no peers) it skips.
func Start(tb testing.TB, in Instance) *Server {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: not starting amazon-ec2-metadata-mock")
	}
	bin := Binary(tb)
	in = in.withDefaults()
	dir := tb.TempDir()
	// The mock has no way to report an OS-chosen port, so pick a free one and
	// try again if another process takes it first.
	var lastLog string
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(tb, bin, dir, in)
		if err == nil {
			return s
		}
		lastLog = err.Error()
	}
	tb.Fatalf("amazon-ec2-metadata-mock did not start:\n%s", lastLog)
	return nil
}

func start(tb testing.TB, bin, dir string, in Instance) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "aemm-config.json")
	// A marker only this process serves, so a mock of another test that
	// happens to hold the port is never taken for ours.
	marker := fmt.Sprintf("ami-%016x", rand.Uint64())
	cfg, err := json.MarshalIndent(config(in, port, marker), "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config-file", cfgPath)
	// The mock reads $HOME/aemm-config.json by default; keep it away from the real home.
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	s := &Server{URL: "http://127.0.0.1:" + port, Instance: in, log: &syncbuf.Buffer{}}
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop := func() { cancel(); <-done }

	deadline := time.Now().Add(StartTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-done:
			stop()
			return nil, fmt.Errorf("mock exited before answering:\n%s", s.log.String())
		default:
		}
		if servesMarker(client, s.URL, marker) {
			break
		}
		if time.Now().After(deadline) {
			stop()
			tb.Fatalf("amazon-ec2-metadata-mock at %s does not answer within %s:\n%s", s.URL, StartTimeout, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Cleanup(stop)
	return s, nil
}

// servesMarker reports whether the mock at url answers IMDSv2 requests
// with our marker as its AMI id.
func servesMarker(client *http.Client, url, marker string) bool {
	req, _ := http.NewRequest(http.MethodPut, url+"/latest/api/token", nil)
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	token, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	req, _ = http.NewRequest(http.MethodGet, url+"/latest/meta-data/ami-id", nil)
	req.Header.Set("X-aws-ec2-metadata-token", string(token))
	resp, err = client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode == http.StatusOK && strings.TrimSpace(string(got)) == marker
}

// config is the mock's configuration file: IMDSv2 only, loopback, and the
// instance's identity.
func config(in Instance, port, marker string) map[string]any {
	values := map[string]any{
		"ami-id":           marker,
		"instance-id":      in.InstanceID,
		"instance-type":    in.InstanceType,
		"placement-region": in.Region,
		"mac":              PrimaryMAC,
	}
	paths := map[string]any{}
	if in.ExtraInterface {
		// The mock's path table is fixed, so move one per-interface path to a
		// second MAC; the macs/ listing then shows two interfaces.
		paths["mac-device-number"] = "/latest/meta-data/network/interfaces/macs/" + ExtraMAC + "/device-number"
		values["mac-device-number"] = "1"
	}
	return map[string]any{
		"imdsv2": true,
		"server": map[string]any{"hostname": "127.0.0.1", "port": port},
		"metadata": map[string]any{
			"paths":  paths,
			"values": values,
		},
		"dynamic": map[string]any{
			"values": map[string]any{
				"instance-identity-document": map[string]any{
					"instanceId":       in.InstanceID,
					"instanceType":     in.InstanceType,
					"region":           in.Region,
					"availabilityZone": in.Region + "a",
					"architecture":     in.Architecture,
				},
			},
		},
	}
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// Env points the SDK's imds client at this mock for the rest of the test.
func (s *Server) Env(tb testing.TB) {
	tb.Helper()
	for k, v := range s.EnvVars() {
		tb.Setenv(k, v)
	}
}

// EnvVars returns the variables Env sets, for a child process.
func (s *Server) EnvVars() map[string]string {
	return map[string]string{
		"AWS_EC2_METADATA_SERVICE_ENDPOINT": s.URL,
		"AWS_EC2_METADATA_DISABLED":         "false",
	}
}

// Log returns what the mock printed so far, for failure messages.
func (s *Server) Log() string { return s.log.String() }

func (s *Server) String() string { return "amazon-ec2-metadata-mock at " + s.URL }

package cli

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/awsclient"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

func TestInputThatCannotBeRightIsRefusedBeforeAnyCall(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"an empty --instance is not all instances", []string{"enis", "--cluster", "prod", "--instance", ""}, `invalid argument "" for "--instance" flag: value is empty`},
		{"an empty --cluster", []string{"instances", "--cluster", ""}, `invalid argument "" for "--cluster" flag`},
		{"an empty --region", []string{"status", "--role", "EcsInstanceRole", "--region", ""}, "--region is empty"},
		{"an empty --profile", []string{"doctor", "--cluster", "prod", "--profile", " "}, "--profile is empty"},
		{"an empty --role", []string{"status", "--role", ""}, "--role is empty"},
		{"an empty --family", []string{"capacity", "--family", ""}, `for "--family" flag`},
		{"a cluster name ECS would refuse", []string{"doctor", "--cluster", "prod.web"}, `--cluster "prod.web" is not a cluster name`},
		{"an instance id that is not one", []string{"enis", "--cluster", "prod", "--instance", "i-12"}, `--instance "i-12" is not an EC2 instance id`},
		{"an --instance that is neither kind of id", []string{"enis", "--cluster", "prod", "--instance", "web-1"}, "neither an EC2 instance id nor a container instance id"},
		{"a role ARN of another partition than the Region", []string{"status", "--role", "arn:aws-cn:iam::123456789012:role/EcsInstanceRole"},
			"is in partition aws-cn, but Region us-east-1 is in partition aws"},
		{"enable refuses a role ARN of another partition too", []string{"enable", "--role", "arn:aws-us-gov:iam::123456789012:role/EcsInstanceRole"},
			"partition aws-us-gov"},
		{"a cluster ARN of another Region says which Region to use", []string{"instances", "--cluster", "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"},
			"want --region eu-west-1"},
		{"an unknown family suggests the nearest", []string{"capacity", "--family", "c5x"}, "did you mean"},
		{"a bad output format names yaml too", []string{"status", "--role", "r", "-o", "xml"}, `--output must be "table", "wide", "json" or "yaml", not "xml"`},
		{"a negative --timeout", []string{"status", "--role", "r", "--timeout", "-1s"}, "--timeout must not be negative"},
		{"rollout refuses an empty cluster", []string{"rollout", "--cluster", "", "--yes"}, `invalid argument "" for "--cluster" flag`},
		{"rollout refuses a role of another partition", []string{"rollout", "--cluster", "prod", "--yes", "--role", "arn:aws-cn:iam::123456789012:role/EcsInstanceRole"}, "partition aws-cn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.acct.Reset()
			code, out, stderr := runCmd(t, w, false, tt.args...)
			if code != ExitUsage || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, want 2 with %q; stderr:\n%s", code, tt.want, stderr)
			}
			if out != "" || len(w.acct.Ops()) != 0 || len(w.cluster.Calls()) != 0 {
				t.Fatalf("calls were made or output written: ops %v, cluster calls %v, stdout %q", w.acct.Ops(), w.cluster.Calls(), out)
			}
		})
	}
}

func TestAMistypedCommandGetsASuggestion(t *testing.T) {
	for _, args := range [][]string{{"stauts"}, {"stauts", "--role", "EcsInstanceRole"}, {"--region", "us-east-1", "stauts"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, stderr := runCmd(t, newWorld(t), false, args...)
			if code != ExitUsage || !strings.Contains(stderr, `unknown command "stauts" for "trunkctl"; did you mean status?`) {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
		})
	}
	if code, out, _ := runCmd(t, newWorld(t), false, "completion", "bash"); code != ExitOK || out == "" {
		t.Fatalf("completion: exit %d", code)
	}
}

func TestYAMLOutputHasTheJSONFields(t *testing.T) {
	code, out, _ := runCmd(t, newWorld(t), false, "status", "--role", "EcsInstanceRole", "-o", "yaml")
	want := "roles:\n  - roleArn: arn:aws:iam::123456789012:role/EcsInstanceRole\n    setting: awsvpcTrunking\n    effectiveValue: disabled\n    source: default\n    via: assume-role\n"
	if code != ExitUnhealthy || out != want {
		t.Fatalf("exit %d, stdout:\n%s\nwant:\n%s", code, out, want)
	}
}

func TestUnderTheGuidesRuleStatusReadsWithPrincipalArn(t *testing.T) {
	w := newWorld(t)
	w.acct.Rule = accountsettingtest.RuleGuide
	code, out, _ := runCmd(t, w, false, "status", "--role", "EcsInstanceRole", "-o", "json")
	if code != ExitUnhealthy || !strings.Contains(out, `"via": "principal-arn"`) || w.acct.HasOp("sts:AssumeRole") {
		t.Fatalf("exit %d, ops %v, stdout:\n%s", code, w.acct.Ops(), out)
	}
}

func TestErrorsNameTheAccountAndRegion(t *testing.T) {
	code, _, stderr := runCmd(t, newWorld(t), false, "instances", "--cluster", "nope")
	if code != ExitError || !strings.Contains(stderr, "(account 123456789012, Region us-east-1)") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestSecretsInAnErrorAreRedactedAtTheEdge(t *testing.T) {
	s, _, errOut := streams(false)
	deps := Deps{IO: s, AWS: func(context.Context, GlobalOptions, io.Writer) (*AWS, error) {
		return nil, errors.New(`Get "https://bucket.s3.amazonaws.com/k?X-Amz-Security-Token=IQoJb3JpZ2luSECRET&X-Amz-Signature=abcdef0123456789": EOF`)
	}}
	Run(context.Background(), []string{"status", "--role", "r"}, deps)
	if got := errOut.String(); strings.Contains(got, "IQoJb3JpZ2luSECRET") || strings.Contains(got, "abcdef0123456789") {
		t.Fatalf("stderr holds a secret: %s", got)
	}
}

// hangingWorld is a world whose first STS call blocks until cancelled.
func hangingWorld(t *testing.T) *world {
	w := newWorld(t)
	w.acct.Hang["sts:GetCallerIdentity"] = true
	return w
}

func TestASignalCancelsTheCallsInFlightPrintsOneLineAndExits128PlusTheSignal(t *testing.T) {
	for _, tt := range []struct {
		sig  syscall.Signal
		want ExitCode
		name string
	}{{syscall.SIGINT, ExitInterrupted, "SIGINT"}, {syscall.SIGTERM, ExitTerminated, "SIGTERM"}} {
		t.Run(tt.name, func(t *testing.T) {
			w := hangingWorld(t)
			ctx, stop := SignalContext(context.Background())
			defer stop()
			go func() {
				time.Sleep(200 * time.Millisecond)
				_ = syscall.Kill(os.Getpid(), tt.sig)
			}()
			s, out, errOut := streams(false)
			start := time.Now()
			code := Run(ctx, []string{"status", "--role", "EcsInstanceRole"}, w.deps(s))
			if code != tt.want || time.Since(start) > 10*time.Second {
				t.Fatalf("exit %d after %s, want %d; stderr:\n%s", code, time.Since(start), tt.want, errOut)
			}
			want := "trunkctl: interrupted by " + tt.name + "; cancelled the AWS calls in flight (changes already made stay; re-running is safe)\n"
			if errOut.String() != want || out.Len() != 0 {
				t.Fatalf("stderr %q, stdout %q; want exactly %q and no output", errOut.String(), out.String(), want)
			}
		})
	}
}

func TestTimeoutBoundsTheRun(t *testing.T) {
	s, _, errOut := streams(false)
	start := time.Now()
	code := Run(context.Background(), []string{"status", "--role", "EcsInstanceRole", "--timeout", "300ms"}, hangingWorld(t).deps(s))
	if code != ExitError || time.Since(start) > 10*time.Second || !strings.Contains(errOut.String(), "timed out after 300ms (--timeout); raise --timeout") {
		t.Fatalf("exit %d after %s, stderr:\n%s", code, time.Since(start), errOut)
	}
}

func TestReadCommandsAreBoundedByDefaultAndEnableIsNot(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want time.Duration // 0: no deadline
	}{
		{[]string{"status", "--role", "r"}, DefaultReadTimeout},
		{[]string{"instances", "--cluster", "prod"}, DefaultReadTimeout},
		{[]string{"enable", "--role", "r"}, 0},
		{[]string{"disable", "--role", "r"}, 0},
		{[]string{"rollout", "--cluster", "prod", "--yes"}, 0},
		{[]string{"rollout", "--cluster", "prod", "--yes", "--timeout", "20m"}, 0}, // rollout's own flag: its wait for replacements
		{[]string{"enable", "--role", "r", "--timeout", "1m"}, time.Minute},
		{[]string{"status", "--role", "r", "--timeout", "0"}, 0},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			s, _, _ := streams(false)
			var left time.Duration
			var has bool
			deps := Deps{IO: s, AWS: func(ctx context.Context, _ GlobalOptions, _ io.Writer) (*AWS, error) {
				var dl time.Time
				dl, has = ctx.Deadline()
				left = time.Until(dl)
				return nil, errors.New("stop here")
			}}
			Run(context.Background(), tt.args, deps)
			if has != (tt.want > 0) || (has && (left > tt.want || left < tt.want-time.Minute/2)) {
				t.Fatalf("deadline %v in %s, want %s", has, left, tt.want)
			}
		})
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// A dead endpoint through the real SDK clients: the retries show, and the
// run ends in seconds with an error naming the endpoint.
func TestADeadEndpointEndsInSecondsSayingWhereAndWhatToCheck(t *testing.T) {
	dir := t.TempDir()
	addr := closedPort(t)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": "http://" + addr, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIATESTTESTTESTTEST",
		"AWS_SECRET_ACCESS_KEY": "testing", "AWS_MAX_ATTEMPTS": "2", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"), "AWS_PROFILE": "",
	} {
		t.Setenv(k, v)
	}
	s, _, errOut := streams(false)
	start := time.Now()
	code := Run(context.Background(), []string{"status", "--role", "EcsInstanceRole"}, Deps{IO: s, AWS: RealAWS})
	took := time.Since(start)
	got := errOut.String()
	if code != ExitError || took > 15*time.Second {
		t.Fatalf("exit %d after %s:\n%s", code, took, got)
	}
	for _, want := range []string{"retrying STS GetCallerIdentity (attempt 2 of 2)", "no answer from http://" + addr + " after 2 attempt(s)", "connection refused", "AWS_ENDPOINT_URL_STS"} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr lacks %q:\n%s", want, got)
		}
	}
	t.Logf("after %s:\n%s", took, got)

	s, _, errOut = streams(false)
	Run(context.Background(), []string{"status", "--role", "EcsInstanceRole", "-o", "json"}, Deps{IO: s, AWS: RealAWS})
	if strings.Contains(errOut.String(), "retrying") {
		t.Errorf("with -o json a retry line went to stderr:\n%s", errOut)
	}
}

func TestTheSpinnerShowsWhatItWaitsForAndTheRetry(t *testing.T) {
	var buf syncbuf.Buffer
	s := &IOStreams{ErrOut: &buf, ErrIsTerminal: true, SpinnerDelay: time.Millisecond, progress: &progressState{}}
	stop := s.StartProgress("reading account settings")
	s.Retrying(awsclient.RetryEvent{Service: "STS", Operation: "GetCallerIdentity", Attempt: 2, MaxAttempts: 5, Err: "connection refused"})
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "reading account settings: retrying STS GetCallerIdentity (attempt 2 of 5): connection refused") {
		if time.Now().After(deadline) {
			t.Fatalf("spinner output: %q", buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if strings.Count(buf.String(), "\n") != 0 {
		t.Fatalf("the retry was printed as a line while the spinner ran: %q", buf.String())
	}
}

func TestAttemptTimeoutLeavesRoomForTwoAttempts(t *testing.T) {
	for _, tt := range []struct{ total, want time.Duration }{
		{0, awsclient.DefaultAttemptTimeout}, {time.Hour, awsclient.DefaultAttemptTimeout}, {10 * time.Second, 5 * time.Second}, {time.Second, time.Second},
	} {
		if got := attemptTimeout(tt.total); got != tt.want {
			t.Errorf("attemptTimeout(%s) = %s, want %s", tt.total, got, tt.want)
		}
	}
}

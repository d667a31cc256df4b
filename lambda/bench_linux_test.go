package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/trunkctl/trunkctl/internal/testutil/lambdaproc"
	"github.com/trunkctl/trunkctl/internal/testutil/lambdaruntime"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
)

// loopbackAWS is a minimal Go STS, ECS and IAM (GetRole) on loopback that answers in
// microseconds, so a benchmark against it measures the function's process.
func loopbackAWS(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch op, _, _ := moto.Operation(r); op {
		case "AssumeRole":
			w.Header().Set("Content-Type", "text/xml")
			exp := time.Now().Add(15 * time.Minute).UTC().Format(time.RFC3339)
			fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>`+
				`<Credentials><AccessKeyId>ASIABENCHBENCHBENCH1</AccessKeyId><SecretAccessKey>benchsecret</SecretAccessKey>`+
				`<SessionToken>benchtoken</SessionToken><Expiration>%s</Expiration></Credentials>`+
				`<AssumedRoleUser><AssumedRoleId>AROABENCH:s</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/EcsInstance/s</Arn></AssumedRoleUser>`+
				`</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`, exp)
		case "PutAccountSetting":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprintf(w, `{"setting":{"name":"awsvpcTrunking","value":"enabled","principalArn":%q}}`, roleARN)
		case "ListAccountSettings":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprintf(w, `{"settings":[{"name":"awsvpcTrunking","value":"enabled","principalArn":%q}]}`, roleARN)
		case "GetRole": // the existence check before a principalArn put
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprintf(w, `<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role><Path>/</Path>`+
				`<RoleName>EcsInstance</RoleName><RoleId>AROABENCH</RoleId><Arn>%s</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate></Role>`+
				`</GetRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetRoleResponse>`, roleARN)
		default:
			http.Error(w, "unexpected "+op, http.StatusBadRequest)
		}
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// coldStart runs one fresh function process for one Create event and
// returns the time from process start to the response arriving at the
// bucket, and the process's peak RSS (VmHWM) in bytes.
func coldStart(b *testing.B, bin string, env []string) (time.Duration, int64) {
	bk := newBucket(b)
	payload, _ := json.Marshal(event(cfn.RequestCreate, bk.URL(), props("RoleArn", roleARN)))
	return lambdaproc.ColdStart(b, bin, payload, 10*time.Second, env, func(inv *lambdaruntime.Invocation) (time.Time, error) {
		var p put
		select {
		case p = <-bk.got:
		case <-time.After(10 * time.Second):
			return time.Time{}, errors.New("no response within 10s")
		}
		var d decoded
		if err := json.Unmarshal(p.Body, &d); err != nil {
			return time.Time{}, fmt.Errorf("bad response: %w", err)
		}
		if d.Status != "SUCCESS" {
			return time.Time{}, fmt.Errorf("response %s %s", d.Status, d.Reason)
		}
		if _, err := inv.Wait(5 * time.Second); err != nil {
			return time.Time{}, err
		}
		return p.At, nil
	})
}

// BenchmarkColdStart measures fresh processes of the release-flag binary
// (TRUNKCTL_BENCH_RUNS of them, default 7) answering one Create: against a
// Go loopback STS/ECS (our process alone) and against moto_server (which
// adds moto's own per-request time). Run with -benchtime 1x; see
// docs/benchmarks.md.
func BenchmarkColdStart(b *testing.B) {
	runs := lambdaproc.BenchRuns(b)
	bin := lambdaBinary(b)
	measure := func(b *testing.B, label string, env []string) {
		c := lambdaproc.MeasureColdStarts(b, runs, func() (time.Duration, int64) { return coldStart(b, bin, env) })
		med, peak := c.Median(), c.PeakRSS()
		b.ReportMetric(float64(c.Max().Microseconds())/1000, "ms-max")
		fmt.Printf("lambda cold start vs %s: %d fresh processes, process start -> response at bucket: median %.1f ms (target <= 15 ms: %s), all [%s] ms; peak RSS %.1f MiB (target <= 16 MB: %s)\n",
			label, runs, float64(med.Microseconds())/1000, verdict(med <= 15*time.Millisecond), c.AllMS(),
			float64(peak)/(1<<20), verdict(peak <= 16_000_000))
	}
	aws := func(endpoint string) []string {
		return []string{"AWS_ENDPOINT_URL=" + endpoint, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
			"AWS_SESSION_TOKEN=testing", "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull}
	}
	b.Run("go-loopback", func(b *testing.B) {
		measure(b, "a Go loopback STS/ECS (the function's own cost)", aws(loopbackAWS(b).URL))
	})
	b.Run("moto", func(b *testing.B) {
		m := moto.Start(b)
		motoEffective(b, m) // moto loads STS and ECS on first use; not our cost
		motoCreateRole(b, m, roleName)
		measure(b, "moto_server (includes moto's per-request time)", aws(m.URL))
		// The same four requests the function makes (moto omits principalArn,
		// so the read-back lists twice), from a warm in-process client: moto's share.
		var own []time.Duration
		for range 7 {
			start := time.Now()
			motoPutAndList(b, m, roleARN)
			own = append(own, time.Since(start))
		}
		slices.Sort(own)
		med := own[len(own)/2]
		b.ReportMetric(float64(med.Microseconds())/1000, "ms-moto-alone-median")
		fmt.Printf("moto alone: AssumeRole + PutAccountSetting + 2 x ListAccountSettings from a warm Go client: median %.1f ms\n", float64(med.Microseconds())/1000)
		versusNoSDK(b, bin, m, runs)
	})
}

// clientRun runs the no-SDK client once and returns the time from process
// start to its response arriving at the bucket.
func clientRun(b *testing.B, bin string, env []string) time.Duration {
	bk := newBucket(b)
	p := lambdaproc.StartProcess(b, bin, append([]string{"BENCH_ROLE_ARN=" + roleARN, "BENCH_RESPONSE_URL=" + bk.URL()}, env...))
	var pt put
	select {
	case pt = <-bk.got:
	case <-time.After(10 * time.Second):
		p.Fail(b, "no-SDK client: no response within 10s")
	}
	if err := p.Cmd.Wait(); err != nil {
		b.Fatalf("no-SDK client: %v\n%s", err, p.Out)
	}
	return pt.At.Sub(p.Started)
}

// median of ds (sorted in place).
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func msOf(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

// versusNoSDK runs, interleaved in one process, fresh function processes
// answering a Create through the fault proxy under both documented rules
// (ECS refusing principalArn: the role must be assumed; ECS accepting it)
// and fresh processes of the no-SDK client making the three calls of the
// first, all against the same moto_server, and reports the medians and
// the function's ratio to the client.
func versusNoSDK(b *testing.B, bin string, m *moto.Server, runs int) {
	client := clientBinary(b)
	refusing, accepting := newFaultProxy(b, m.URL), newFaultProxy(b, m.URL)
	accepting.allowPrincipalArn = true
	var fnRefusing, fnAccepting, cl, fnStart, clStart []time.Duration
	for range runs {
		fnStart = append(fnStart, startUp(b, bin))
		clStart = append(clStart, startUp(b, client))
		d, _ := coldStart(b, bin, refusing.env(m, "2s"))
		fnRefusing = append(fnRefusing, d)
		d, _ = coldStart(b, bin, accepting.env(m, "2s"))
		fnAccepting = append(fnAccepting, d)
		var env []string
		for k, v := range m.EnvVars() {
			env = append(env, k+"="+v)
		}
		cl = append(cl, clientRun(b, client, append(env, "AWS_ENDPOINT_URL="+refusing.srv.URL)))
	}
	mr, ma, mc := median(fnRefusing), median(fnAccepting), median(cl)
	ms, cs := median(fnStart), median(clStart)
	ratio := float64(mr) / float64(mc)
	b.ReportMetric(float64(mr.Microseconds())/1000, "ms-fn-refusing-median")
	b.ReportMetric(float64(ma.Microseconds())/1000, "ms-fn-accepting-median")
	b.ReportMetric(float64(mc.Microseconds())/1000, "ms-nosdk-median")
	b.ReportMetric(ratio, "ratio-refusing")
	b.ReportMetric(float64(ms.Microseconds())/1000, "ms-fn-startup-median")
	b.ReportMetric(float64(cs.Microseconds())/1000, "ms-nosdk-startup-median")
	fmt.Printf("vs the no-SDK client (./lambda/benchclient: AssumeRole, PutAccountSetting, ListAccountSettings, then the response PUT), moto_server behind the fault proxy, %d fresh processes each, interleaved:\n", runs)
	fmt.Printf("  function, ECS refusing principalArn (role assumed): median %s ms, all [%s]\n", msOf(mr), joinMS(fnRefusing))
	fmt.Printf("  function, ECS accepting principalArn:              median %s ms, all [%s]\n", msOf(ma), joinMS(fnAccepting))
	fmt.Printf("  no-SDK client, three calls:                        median %s ms, all [%s]\n", msOf(mc), joinMS(cl))
	fmt.Printf("  ratio (function refusing / no-SDK): %.2fx (target <= 1.25: %s); accepting / no-SDK: %.2fx\n", ratio, verdict(ratio <= 1.25), float64(ma)/float64(mc))
	fmt.Printf("  start-up alone (process start -> exit with nothing to do): function median %s ms, all [%s]; no-SDK client median %s ms, all [%s]\n",
		msOf(ms), joinMS(fnStart), msOf(cs), joinMS(clStart))
	fmt.Printf("  after start-up (medians less the start-up medians): function refusing %s ms, no-SDK client %s ms: %.2fx\n",
		msOf(mr-ms), msOf(mc-cs), float64(mr-ms)/float64(mc-cs))
}

// startUp runs bin once with nothing to do (no Runtime API, no endpoint:
// both binaries give up right after their start) and returns the time from
// process start to its exit: the Go runtime's and the packages' start-up.
func startUp(b *testing.B, bin string) time.Duration {
	p := lambdaproc.StartProcess(b, bin, nil)
	_ = p.Cmd.Wait() // both exit 1: there is nothing to answer
	return time.Since(p.Started)
}

func joinMS(ds []time.Duration) string {
	var all []string
	for _, d := range ds {
		all = append(all, msOf(d))
	}
	return strings.Join(all, " ")
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/trunkctl/trunkctl/internal/testutil/lambdaruntime"
	"github.com/trunkctl/trunkctl/internal/testutil/moto"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

// loopbackAWS is a minimal Go STS, ECS and IAM (GetRole) on loopback that answers in
// microseconds, so a benchmark against it measures the function's process.
func loopbackAWS(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch op := operation(r); op {
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
	rt := lambdaruntime.Start(b)
	bk := newBucket(b)
	payload, _ := json.Marshal(event(cfn.RequestCreate, bk.URL(), props("RoleArn", roleARN)))
	inv := rt.Invoke(payload, 10*time.Second) // queued before the process starts, as on a real cold start

	cmd := exec.Command(bin)
	cmd.Env = append(append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir()}, rt.Env()...), env...)
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var p put
	select {
	case p = <-bk.got:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		b.Fatalf("no response within 10s:\n%s", out)
	}
	elapsed := p.At.Sub(start)
	if d := decodeB(b, p.Body); d.Status != "SUCCESS" {
		b.Fatalf("response %s %s\n%s", d.Status, d.Reason, out)
	}
	if _, err := inv.Wait(5 * time.Second); err != nil {
		b.Fatal(err)
	}
	// The function has answered and is waiting for the next event, so its
	// high-water mark is final. VmHWM belongs to the address space exec
	// created; rusage's Maxrss would also count the test process, whose
	// memory the child shares between vfork and exec.
	hwm, err := vmHWM(cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	rt.Close() // the next poll fails and the process exits
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	return elapsed, hwm
}

// vmHWM reads a process's peak resident set size in bytes.
func vmHWM(pid int) (int64, error) {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

func decodeB(b *testing.B, body []byte) decoded {
	var d decoded
	if err := json.Unmarshal(body, &d); err != nil {
		b.Fatalf("bad response: %v", err)
	}
	return d
}

// BenchmarkColdStart measures fresh processes of the release-flag binary
// (TRUNKCTL_BENCH_RUNS of them, default 7) answering one Create: against a
// Go loopback STS/ECS (our process alone) and against moto_server (which
// adds moto's own per-request time). Run with -benchtime 1x; see
// docs/benchmarks.md.
func BenchmarkColdStart(b *testing.B) {
	runs := 7
	if s := os.Getenv("TRUNKCTL_BENCH_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 5 {
			b.Fatalf("TRUNKCTL_BENCH_RUNS=%q: want a number >= 5", s)
		}
		runs = n
	}
	bin := lambdaBinary(b)
	measure := func(b *testing.B, label string, env []string) {
		var times []time.Duration
		var rss []int64
		for range b.N {
			times, rss = times[:0], rss[:0]
			for range runs {
				d, m := coldStart(b, bin, env)
				times = append(times, d)
				rss = append(rss, m)
			}
		}
		slices.Sort(times)
		slices.Sort(rss)
		med := times[len(times)/2]
		peak := rss[len(rss)-1]
		b.ReportMetric(float64(med.Microseconds())/1000, "ms-median")
		b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "ms-max")
		b.ReportMetric(float64(peak)/(1<<20), "MiB-peak-rss")
		var all []string
		for _, t := range times {
			all = append(all, fmt.Sprintf("%.1f", float64(t.Microseconds())/1000))
		}
		fmt.Printf("lambda cold start vs %s: %d fresh processes, process start -> response at bucket: median %.1f ms (target <= 15 ms: %s), all [%s] ms; peak RSS %.1f MiB (target <= 16 MB: %s)\n",
			label, runs, float64(med.Microseconds())/1000, verdict(med <= 15*time.Millisecond), strings.Join(all, " "),
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
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(), "BENCH_ROLE_ARN=" + roleARN, "BENCH_RESPONSE_URL=" + bk.URL()}, env...)
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var p put
	select {
	case p = <-bk.got:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		b.Fatalf("no-SDK client: no response within 10s:\n%s", out)
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("no-SDK client: %v\n%s", err, out)
	}
	return p.At.Sub(start)
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
	client, err := buildClient()
	if err != nil {
		b.Fatal(err)
	}
	refusing, accepting := newFaultProxy(b, m.URL), newFaultProxy(b, m.URL)
	accepting.allowPrincipalArn = true
	var fnRefusing, fnAccepting, cl []time.Duration
	for range runs {
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
	ratio := float64(mr) / float64(mc)
	b.ReportMetric(float64(mr.Microseconds())/1000, "ms-fn-refusing-median")
	b.ReportMetric(float64(ma.Microseconds())/1000, "ms-fn-accepting-median")
	b.ReportMetric(float64(mc.Microseconds())/1000, "ms-nosdk-median")
	b.ReportMetric(ratio, "ratio-refusing")
	fmt.Printf("vs the no-SDK client (./lambda/benchclient: AssumeRole, PutAccountSetting, ListAccountSettings, then the response PUT), moto_server behind the fault proxy, %d fresh processes each, interleaved:\n", runs)
	fmt.Printf("  function, ECS refusing principalArn (role assumed): median %s ms, all [%s]\n", msOf(mr), joinMS(fnRefusing))
	fmt.Printf("  function, ECS accepting principalArn:              median %s ms, all [%s]\n", msOf(ma), joinMS(fnAccepting))
	fmt.Printf("  no-SDK client, three calls:                        median %s ms, all [%s]\n", msOf(mc), joinMS(cl))
	fmt.Printf("  ratio (function refusing / no-SDK): %.2fx (target <= 1.25: %s); accepting / no-SDK: %.2fx\n", ratio, verdict(ratio <= 1.25), float64(ma)/float64(mc))
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

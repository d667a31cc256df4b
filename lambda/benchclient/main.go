// Command benchclient is the floor `make bench-lambda` measures the opt-in
// function against: a process without the AWS SDK that makes the three
// calls an opt-in of a role needs when the role must be assumed
// (sts:AssumeRole, then ecs:PutAccountSetting and ecs:ListAccountSettings as
// the role), signed with Signature Version 4 by hand, and PUTs a response to
// a URL, as the function answers CloudFormation. Only the benchmark runs it.
//
// Environment: AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional), BENCH_ROLE_ARN,
// BENCH_RESPONSE_URL. It exits 1 when a call fails or the setting does not
// read back enabled.
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchclient:", err)
		os.Exit(1)
	}
}

// creds are an access key, its secret and session token.
type creds struct{ ak, sk, token string }

func run() error {
	endpoint, region, role, respond := os.Getenv("AWS_ENDPOINT_URL"), os.Getenv("AWS_REGION"), os.Getenv("BENCH_ROLE_ARN"), os.Getenv("BENCH_RESPONSE_URL")
	if endpoint == "" || region == "" || role == "" || respond == "" {
		return fmt.Errorf("AWS_ENDPOINT_URL, AWS_REGION, BENCH_ROLE_ARN and BENCH_RESPONSE_URL are required")
	}
	c := creds{os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")}
	form := url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {role}, "RoleSessionName": {"benchclient"}, "DurationSeconds": {"900"}}
	body, err := call(endpoint, region, "sts", c, "application/x-www-form-urlencoded; charset=utf-8", "", []byte(form.Encode()))
	if err != nil {
		return fmt.Errorf("assume role: %w", err)
	}
	var ar struct {
		Creds struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string `xml:"SecretAccessKey"`
			SessionToken    string `xml:"SessionToken"`
		} `xml:"AssumeRoleResult>Credentials"`
	}
	if err := xml.Unmarshal(body, &ar); err != nil { //nolint:gosec // G709: the answer of the benchmark's own loopback STS
		return fmt.Errorf("assume role: %w", err)
	}
	if ar.Creds.AccessKeyID == "" {
		return fmt.Errorf("assume role: no credentials in %q", body)
	}
	as := creds{ar.Creds.AccessKeyID, ar.Creds.SecretAccessKey, ar.Creds.SessionToken}
	const target = "AmazonEC2ContainerServiceV20141113."
	if _, err := call(endpoint, region, "ecs", as, "application/x-amz-json-1.1", target+"PutAccountSetting", []byte(`{"name":"awsvpcTrunking","value":"enabled"}`)); err != nil {
		return fmt.Errorf("put account setting: %w", err)
	}
	body, err = call(endpoint, region, "ecs", as, "application/x-amz-json-1.1", target+"ListAccountSettings", []byte(`{"name":"awsvpcTrunking","effectiveSettings":true}`))
	if err != nil {
		return fmt.Errorf("list account settings: %w", err)
	}
	var list struct {
		Settings []struct {
			Value string `json:"value"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("list account settings: %w", err)
	}
	if len(list.Settings) == 0 || list.Settings[0].Value != "enabled" {
		return fmt.Errorf("list account settings: not enabled: %s", body)
	}
	resp, _ := json.Marshal(map[string]any{"Status": "SUCCESS", "Data": map[string]string{"EffectiveValue": list.Settings[0].Value}})
	// The URLs are the benchmark's loopback servers, from its environment.
	req, err := http.NewRequest(http.MethodPut, respond, bytes.NewReader(resp)) //nolint:gosec // G704: see above
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req) //nolint:gosec // G704: see above
	if err != nil {
		return fmt.Errorf("put response: %w", err)
	}
	res.Body.Close()
	return nil
}

// call POSTs body to endpoint signed for service, and returns the answer of
// a 2xx.
func call(endpoint, region, service string, c creds, contentType, target string, body []byte) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(endpoint, "/")+"/", bytes.NewReader(body)) //nolint:gosec // G704: the benchmark's loopback endpoint
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	sign(req, body, service, region, c, time.Now())
	res, err := http.DefaultClient.Do(req) //nolint:gosec // G704: the benchmark's loopback endpoint
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s: %s", res.Status, out)
	}
	return out, nil
}

// sign adds Signature Version 4 headers, signing the headers the SDK signs
// for these requests (a test compares the two).
func sign(req *http.Request, body []byte, service, region string, c creds, now time.Time) {
	amzDate := now.UTC().Format("20060102T150405Z")
	date := amzDate[:8]
	req.Header.Set("X-Amz-Date", amzDate)
	if c.token != "" {
		req.Header.Set("X-Amz-Security-Token", c.token)
	}
	headers := map[string]string{"content-length": fmt.Sprint(req.ContentLength), "content-type": req.Header.Get("Content-Type"), "host": req.URL.Host, "x-amz-date": amzDate}
	names := []string{"content-length", "content-type", "host", "x-amz-date"}
	if c.token != "" {
		headers["x-amz-security-token"] = c.token
		names = append(names, "x-amz-security-token")
	}
	if t := req.Header.Get("X-Amz-Target"); t != "" {
		headers["x-amz-target"] = t
		names = append(names, "x-amz-target")
	}
	var canonHeaders strings.Builder
	for _, n := range names {
		canonHeaders.WriteString(n + ":" + strings.TrimSpace(headers[n]) + "\n")
	}
	signed := strings.Join(names, ";")
	canonical := strings.Join([]string{req.Method, "/", "", canonHeaders.String(), signed, hexSum(body)}, "\n")
	scope := date + "/" + region + "/" + service + "/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hexSum([]byte(canonical))
	key := mac([]byte("AWS4"+c.sk), date)
	for _, part := range []string{region, service, "aws4_request"} {
		key = mac(key, part)
	}
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s", c.ak, scope, signed, hex.EncodeToString(mac(key, toSign))))
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func mac(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

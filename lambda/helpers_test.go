package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trunkctl/trunkctl/internal/accountsetting"
	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

// fnRole is the Lambda function's own execution role in the fake account.
const fnRole = "arn:aws:sts::123456789012:assumed-role/trunkctl-fn/trunkctl-fn"

// responseSecret is in every test ResponseURL's query string and must never
// reach a log line.
const responseSecret = "X-Amz-Signature=0123abcdSECRETSIGNATURE&X-Amz-Security-Token=SECRETPRESIGNTOKEN"

// put is one PUT the bucket received.
type put struct {
	Body           []byte
	HasContentType bool
	ContentType    string
	Query          string
	At             time.Time
}

// bucket is an httptest stand-in for the pre-signed S3 URL.
type bucket struct {
	srv *httptest.Server
	mu  sync.Mutex
	// fail answers this many PUTs with 503; drop closes this many connections first.
	fail, drop int
	puts       []put
	got        chan put
}

func newBucket(t testing.TB) *bucket {
	t.Helper()
	b := &bucket{got: make(chan put, 16)}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		if b.drop > 0 {
			b.drop--
			b.mu.Unlock()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		if b.fail > 0 {
			b.fail--
			b.mu.Unlock()
			http.Error(w, "slow down", http.StatusServiceUnavailable)
			return
		}
		ct, has := r.Header["Content-Type"]
		p := put{Body: body, HasContentType: has, Query: r.URL.RawQuery, At: time.Now()}
		if has && len(ct) > 0 {
			p.ContentType = ct[0]
		}
		if r.Method == http.MethodPut {
			b.puts = append(b.puts, p)
		}
		b.mu.Unlock()
		if r.Method != http.MethodPut {
			http.Error(w, "want PUT", http.StatusMethodNotAllowed)
			return
		}
		b.got <- p
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// URL is a pre-signed-looking response URL on the bucket.
func (b *bucket) URL() string {
	return b.srv.URL + "/cloudformation-custom-resource-response-useast1/stack%7CTrunking%7Creq?" + responseSecret
}

func (b *bucket) Puts() []put {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]put(nil), b.puts...)
}

// closedURL is a loopback URL nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/bucket/key?" + responseSecret
}

// decoded is a response body as CloudFormation reads it.
type decoded struct {
	Status             string
	RequestID          string `json:"RequestId"`
	LogicalResourceID  string `json:"LogicalResourceId"`
	StackID            string `json:"StackId"`
	PhysicalResourceID string `json:"PhysicalResourceId"`
	Reason             string
	Data               map[string]string
}

func decode(t *testing.T, body []byte) decoded {
	t.Helper()
	var d decoded
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("response is not the JSON CloudFormation expects: %v\n%s", err, body)
	}
	return d
}

const stackID = "arn:aws:cloudformation:us-east-1:123456789012:stack/trunking-demo/0f3e8c10-5a4e-11ef-9b5f-0affd1c3e1a7"

func event(reqType cfn.RequestType, url string, props map[string]any) cfn.Event {
	return cfn.Event{
		RequestType: reqType, RequestID: "7bfe2f2e-0d6a-4e1b-9d41-0b6a6b1d7a10", ResponseURL: url,
		ResourceType: "Custom::EniTrunking", LogicalResourceID: "Trunking", StackID: stackID,
		ResourceProperties: props,
	}
}

// logLines decodes every JSON log line.
func logLines(t *testing.T, l *syncbuf.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader([]byte(l.String())))
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("log is not JSON lines: %v\n%s", err, l.String())
		}
		out = append(out, m)
	}
	return out
}

// secretSTS hands out credentials whose secret parts are easy to spot in logs.
type secretSTS struct {
	accountsetting.STSAPI
}

const (
	fakeSecretKey    = "FAKESECRETACCESSKEYdoNotLog"
	fakeSessionToken = "FAKESESSIONTOKENdoNotLog"
)

func (s secretSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	out, err := s.STSAPI.AssumeRole(ctx, in, optFns...)
	if err == nil && out.Credentials != nil {
		c := *out.Credentials
		c.SecretAccessKey, c.SessionToken = aws.String(fakeSecretKey), aws.String(fakeSessionToken)
		out.Credentials = &c
	}
	return out, err
}

// fnARN is the invoked function's ARN in the fake account.
const fnARN = "arn:aws:lambda:us-east-1:123456789012:function:trunkctl"

// invoked is ctx as Lambda hands it to the handler: with the invoked
// function's ARN, which says the function's own account.
func invoked(ctx context.Context) context.Context {
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{InvokedFunctionArn: fnARN, AwsRequestID: "0c5e0e4a-test"})
}

// newTestHandler wires a Handler to the fake account and a log buffer.
func newTestHandler(acct *accountsettingtest.Account, logs io.Writer) *Handler {
	return &Handler{
		Clients: func(context.Context, string) (regionClients, error) {
			return regionClients{STS: secretSTS{acct.STSAs(fnRole)}, ECS: acct.ECSAs(fnRole), NewECS: acct.ECSFactory(), IAM: acct.IAMAs(fnRole)}, nil
		},
		HTTP:            &http.Client{},
		Log:             slog.New(slog.NewJSONHandler(logs, nil)),
		DefaultRegion:   "us-east-1",
		PropagationWait: 2 * time.Second,
		Reserve:         300 * time.Millisecond,
	}
}

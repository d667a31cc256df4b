package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/trunkctl/trunkctl/internal/accountsetting/accountsettingtest"
	"github.com/trunkctl/trunkctl/internal/testutil/syncbuf"
)

func TestResponsePutIsRetriedOnServerErrorsAndDroppedConnections(t *testing.T) {
	acct := accountsettingtest.New()
	acct.AddRole(roleName, accountsettingtest.RoleState{})
	b := newBucket(t)
	b.fail, b.drop = 2, 1
	logs := &syncbuf.Buffer{}
	h := newTestHandler(acct, logs)
	if err := h.Handle(invoked(context.Background()), event(cfn.RequestCreate, b.URL(), props("RoleArn", roleARN))); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	puts := b.Puts()
	if len(puts) != 1 {
		t.Fatalf("bucket stored %d responses, want 1", len(puts))
	}
	if got := decode(t, puts[0].Body); got.Status != "SUCCESS" {
		t.Errorf("Status = %s (%s)", got.Status, got.Reason)
	}
	if !strings.Contains(logs.String(), `"response_attempts":4`) {
		t.Errorf("log does not record 4 attempts:\n%s", logs)
	}
}

func TestResponsePutIsNotRetriedOnAClientError(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		http.Error(w, "Request has expired", http.StatusForbidden)
	}))
	defer srv.Close()
	h := newTestHandler(accountsettingtest.New(), &syncbuf.Buffer{})
	res, err := h.sender().send(context.Background(), srv.URL+"/key?"+responseSecret, []byte("{}"))
	if err == nil || !strings.Contains(err.Error(), "HTTP 403") {
		t.Fatalf("err = %v, want HTTP 403", err)
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error leaks the query string: %v", err)
	}
	if res.Attempts != 1 || hits.Load() != 1 {
		t.Errorf("attempts = %d, hits = %d, want 1 (a 4xx will not change on retry)", res.Attempts, hits.Load())
	}
}

func TestUndeliverableResponseFailsTheInvocationWithoutLeakingTheURLSecret(t *testing.T) {
	acct := accountsettingtest.New()
	logs := &syncbuf.Buffer{}
	h := newTestHandler(acct, logs)
	h.Sleep = noSleep
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := h.Handle(invoked(ctx), event(cfn.RequestDelete, closedURL(t), props("RoleArn", roleARN)))
	if err == nil {
		t.Fatal("Handle returned nil for a response that never arrived")
	}
	for _, s := range []string{err.Error(), logs.String()} {
		if strings.Contains(s, "SECRET") || strings.Contains(s, "X-Amz-") {
			t.Errorf("the pre-signed query string leaked: %s", s)
		}
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("err = %v, want the network error", err)
	}
}

func TestResponseHasNoContentType(t *testing.T) {
	acct := accountsettingtest.New()
	b := newBucket(t)
	h := newTestHandler(acct, &syncbuf.Buffer{})
	if err := h.Handle(invoked(context.Background()), event(cfn.RequestDelete, b.URL(), props("RoleArn", roleARN))); err != nil {
		t.Fatal(err)
	}
	if p := b.Puts()[0]; p.ContentType != "" {
		t.Errorf("Content-Type = %q, want none (the pre-signed URL is signed without one)", p.ContentType)
	}
	if q := b.Puts()[0].Query; q != responseSecret {
		t.Errorf("query string = %q, want the pre-signed one unchanged", q)
	}
}

func TestResponseBodyStaysUnder4096BytesHoweverLongTheReason(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "<", "&", "\"", "\\", "\n", "\x01", "é", "漢", "😀", "\xff"}
	for n := range 300 {
		var sb strings.Builder
		size := r.IntN(20000)
		if n < 10 {
			size = 4000 + n // around the limit
		}
		for sb.Len() < size {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		reason := sb.String()
		resp := cfn.Response{Status: cfn.StatusFailed, RequestID: "7bfe2f2e-0d6a-4e1b-9d41-0b6a6b1d7a10", LogicalResourceID: "Trunking",
			StackID: stackID, PhysicalResourceID: ourID, Reason: reason,
			Data: map[string]any{"PrincipalArn": roleARN, "Setting": "awsvpcTrunking", "Value": "enabled", "EffectiveValue": "enabled"}}
		body := encodeResponse(resp)
		if len(body) > maxBody {
			t.Fatalf("case %d: body is %d bytes, want <= %d", n, len(body), maxBody)
		}
		var got cfn.Response
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("case %d: body is not valid JSON: %v", n, err)
		}
		if !utf8.ValidString(got.Reason) {
			t.Fatalf("case %d: Reason is not valid UTF-8", n)
		}
		if got.PhysicalResourceID != ourID || got.Status != cfn.StatusFailed {
			t.Fatalf("case %d: truncation touched other fields: %+v", n, got)
		}
		if full, _ := json.Marshal(resp); len(full) <= maxBody {
			var want string
			rb, _ := json.Marshal(reason)
			_ = json.Unmarshal(rb, &want)
			if got.Reason != want {
				t.Fatalf("case %d: a body that fits was changed", n)
			}
		} else {
			if !strings.HasSuffix(got.Reason, truncatedSuffix) {
				t.Fatalf("case %d: truncated Reason does not say so: %q", n, got.Reason[max(0, len(got.Reason)-80):])
			}
			if len(body) < maxBody-200 {
				t.Errorf("case %d: truncated to %d bytes, far below the limit", n, len(body))
			}
		}
	}
}

func TestALongRoleArnStillGetsAResponseUnder4096Bytes(t *testing.T) {
	acct := accountsettingtest.New()
	b := newBucket(t)
	h := newTestHandler(acct, &syncbuf.Buffer{})
	long := "arn:aws:iam::123456789012:role/" + strings.Repeat("a<", 3000)
	if err := h.Handle(invoked(context.Background()), event(cfn.RequestCreate, b.URL(), props("RoleArn", long))); err != nil {
		t.Fatal(err)
	}
	p := b.Puts()[0]
	if len(p.Body) > maxBody {
		t.Fatalf("body is %d bytes", len(p.Body))
	}
	got := decode(t, p.Body)
	if got.Status != "FAILED" || !strings.HasPrefix(got.Reason, "invalid property RoleArn") || !isCreateFailedID(got.PhysicalResourceID) {
		t.Errorf("got %s %q %q", got.Status, got.PhysicalResourceID, clip(got.Reason))
	}
}

func TestLogsHaveOneLinePerOutcomeAndNoSecrets(t *testing.T) {
	acct := accountsettingtest.New()
	acct.AddRole(roleName, accountsettingtest.RoleState{DenyFirst: 1})
	b := newBucket(t)
	logs := &syncbuf.Buffer{}
	h := newTestHandler(acct, logs)
	h.Sleep = noSleep
	for _, ev := range []cfn.Event{
		event(cfn.RequestCreate, b.URL(), props("RoleArn", roleARN, "OnDelete", "disable")),
		func() cfn.Event {
			e := event(cfn.RequestDelete, b.URL(), props("RoleArn", roleARN, "OnDelete", "disable"))
			e.PhysicalResourceID = ourID
			return e
		}(),
	} {
		if err := h.Handle(invoked(context.Background()), ev); err != nil {
			t.Fatal(err)
		}
	}
	out := logs.String()
	for _, secret := range []string{"SECRETSIGNATURE", "SECRETPRESIGNTOKEN", "X-Amz-", fakeSecretKey, fakeSessionToken, "ASIAFAKE"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	var outcomes []map[string]any
	for _, l := range logLines(t, logs) {
		if l["msg"] == "custom resource event" {
			outcomes = append(outcomes, l)
		}
	}
	if len(outcomes) != 2 {
		t.Fatalf("%d outcome lines, want 2:\n%s", len(outcomes), out)
	}
	if outcomes[0]["action"] != "created" || outcomes[1]["action"] != "disabled" || outcomes[0]["RoleArn"] != roleARN {
		t.Errorf("outcome lines: %v", outcomes)
	}
	if !strings.Contains(out, "role not assumable yet, retrying") {
		t.Errorf("the IAM propagation retry is not logged:\n%s", out)
	}
	if u := outcomes[0]["response_url"]; u != b.srv.URL+"/cloudformation-custom-resource-response-useast1/stack%7CTrunking%7Creq" {
		t.Errorf("response_url = %v, want the URL without its query", u)
	}
}

package main

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func TestTheHandMadeSignatureIsTheSDKs(t *testing.T) {
	body := []byte(`{"name":"awsvpcTrunking","value":"enabled"}`)
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := creds{"ASIAEXAMPLEEXAMPLE01", "secret", "token"}
	mine, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:5000/", bytes.NewReader(body))
	mine.Header.Set("Content-Type", "application/x-amz-json-1.1")
	mine.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.PutAccountSetting")
	sdk := mine.Clone(context.Background())
	sign(mine, body, "ecs", "us-east-1", c, now)

	sdk.Header.Set("X-Amz-Security-Token", c.token)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: c.ak, SecretAccessKey: c.sk, SessionToken: c.token},
		sdk, hexSum(body), "ecs", "us-east-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mine.Header.Get("Authorization"), sdk.Header.Get("Authorization"); got != want {
		t.Fatalf("Authorization\n got  %s\n want %s", got, want)
	}
}

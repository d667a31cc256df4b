package moto

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Rewrite changes one answer of moto's: op is the JSON protocol operation
// (the X-Amz-Target after its last dot, "DescribeTasks"); it returns the body
// to send on.
type Rewrite func(op string, body []byte) []byte

// Proxy starts a loopback proxy in front of target that passes everything
// through but the answers rw rewrite, and returns its URL. Each Rewrite
// fixes one known moto 5.2.1 deviation from the AWS API.
func Proxy(tb testing.TB, target string, rw ...Rewrite) string {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.ModifyResponse = func(resp *http.Response) error {
		op := resp.Request.Header.Get("X-Amz-Target")
		if op == "" {
			return nil
		}
		op = op[strings.LastIndex(op, ".")+1:]
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		for _, f := range rw {
			body = f(op, body)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(p)
	tb.Cleanup(srv.Close)
	return srv.URL
}

// ContainerNumbersAsStrings: moto answers task containers' cpu and memory as
// JSON numbers where the ECS API (and so the Go SDK's deserializer) has
// strings.
func ContainerNumbersAsStrings(op string, body []byte) []byte {
	if op != "DescribeTasks" && op != "RunTask" && op != "StopTask" {
		return body
	}
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil {
		return body
	}
	tasks, _ := doc["tasks"].([]any)
	if t, ok := doc["task"]; ok {
		tasks = append(tasks, t)
	}
	for _, tk := range tasks {
		tm, _ := tk.(map[string]any)
		cs, _ := tm["containers"].([]any)
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			for _, k := range []string{"cpu", "memory"} {
				if n, ok := cm[k].(float64); ok {
					cm[k] = strconv.FormatFloat(n, 'f', -1, 64)
				}
			}
		}
	}
	fixed, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return fixed
}

// AgentVersion: moto ignores RegisterContainerInstance's versionInfo and
// answers agent 1.0.0 for every container instance; this answers v instead.
func AgentVersion(v string) Rewrite {
	return func(op string, body []byte) []byte {
		if op != "DescribeContainerInstances" && op != "RegisterContainerInstance" {
			return body
		}
		return bytes.ReplaceAll(body, []byte(`"agentVersion": "1.0.0"`), []byte(`"agentVersion": "`+v+`"`))
	}
}

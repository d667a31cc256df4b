package moto

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Operation names an AWS request as a test proxy in front of moto_server
// sees it: the X-Amz-Target after its last dot for JSON protocols (ECS:
// "PutAccountSetting"), the Action form field for query protocols (STS,
// IAM, SNS: "AssumeRole", with the form), else "METHOD /path". It reads the
// body, returns it, and leaves it in the request for whoever reads next.
func Operation(r *http.Request) (op string, body []byte, form url.Values) {
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndex(t, ".")+1:], body, nil
	}
	if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
		return v.Get("Action"), body, v
	}
	return r.Method + " " + r.URL.Path, body, nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/trunkctl/trunkctl/internal/retry"
)

// maxBody is CloudFormation's limit on a custom resource response.
const maxBody = 4096

const truncatedSuffix = " ... [truncated; the function's log has the whole message]"

// encodeResponse marshals r, shortening Reason (and, as a last resort,
// dropping Data) until the body fits in maxBody bytes. The result is always
// valid JSON.
func encodeResponse(r cfn.Response) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		// Data holds only strings, so this cannot happen; answer without it anyway.
		r.Data = nil
		b, _ = json.Marshal(r)
	}
	if len(b) > maxBody {
		// Escaping makes the JSON length of a prefix hard to predict, so
		// binary-search the longest prefix of Reason that fits.
		reason := r.Reason
		lo, hi := 0, len(reason) // the prefix of length lo fits, or lo is 0
		for lo < hi {
			mid := (lo + hi + 1) / 2
			r.Reason = truncateUTF8(reason, mid) + truncatedSuffix
			if c, _ := json.Marshal(r); len(c) <= maxBody {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		r.Reason = truncateUTF8(reason, lo) + truncatedSuffix
		b, _ = json.Marshal(r)
	}
	if len(b) > maxBody {
		r.Data = nil
		b, _ = json.Marshal(r)
	}
	return b
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// sender PUTs the response to the pre-signed ResponseURL.
type sender struct {
	client *http.Client
	sleep  func(ctx context.Context, d time.Duration) error
}

// sendResult says how delivery went, for the log.
type sendResult struct {
	Attempts int
	Status   int
	Bytes    int
}

// send PUTs body to rawURL, retrying network errors and 5xx answers with
// jittered backoff until ctx ends. It never returns or logs the URL's query
// string: that is where the pre-signed credentials are.
func (s sender) send(ctx context.Context, rawURL string, body []byte) (sendResult, error) {
	res := sendResult{Bytes: len(body)}
	// The first retry within 50 ms, none more than a second apart: the
	// answer has to fit in the reserve.
	backoff := retry.Backoff{Base: 25 * time.Millisecond, Max: time.Second}
	for {
		res.Attempts++
		status, err := s.put(ctx, rawURL, body)
		res.Status = status
		if err == nil && status >= 200 && status < 300 {
			return res, nil
		}
		retryable := err != nil || status >= 500 || status == http.StatusTooManyRequests
		if err == nil {
			err = fmt.Errorf("PUT %s: HTTP %d", redactURL(rawURL), status)
		}
		if !retryable {
			return res, err
		}
		if ctx.Err() != nil || res.Attempts >= 8 {
			return res, fmt.Errorf("gave up after %d attempt(s): %w", res.Attempts, err)
		}
		if serr := s.sleep(ctx, backoff.Delay(res.Attempts)); serr != nil {
			return res, fmt.Errorf("gave up after %d attempt(s): %w", res.Attempts, err)
		}
	}
}

func (s sender) put(ctx context.Context, rawURL string, body []byte) (int, error) {
	// One attempt may use half of what is left, so a stalled connection still
	// leaves time to try again.
	attemptCtx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		attemptCtx, cancel = context.WithTimeout(ctx, max(time.Until(dl)/2, 250*time.Millisecond))
		defer cancel()
	}
	req, err := http.NewRequestWithContext(attemptCtx, http.MethodPut, rawURL, bytes.NewReader(body))
	if err != nil {
		return 0, redactErr(err)
	}
	// S3 pre-signed URLs are signed with an empty Content-Type.
	req.Header["Content-Type"] = nil
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, redactErr(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// redactURL drops the query string and user info of a URL for logs and errors.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.User = "", false, "", nil
	return u.String()
}

// redactErr rewrites the URL inside a *url.Error, which net/http fills with
// the full pre-signed URL.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
	}
	return err
}

// checkResponseURL accepts http(s) URLs only.
func checkResponseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("ResponseURL %q is not an http(s) URL", redactURL(raw))
	}
	return nil
}

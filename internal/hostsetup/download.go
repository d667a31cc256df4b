package hostsetup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/trunkctl/trunkctl/internal/awsarn"
)

// DefaultAgentBaseURL is the regional bucket Amazon publishes ecs-init in,
// in the Region's partition (amazonaws.com.cn in China).
func DefaultAgentBaseURL(region string) string {
	suffix := awsarn.DNSSuffix(awsarn.PartitionForRegion(region))
	return fmt.Sprintf("https://s3.%s.%s/amazon-ecs-agent-%s/", region, suffix, region)
}

// packageURL joins the base URL and the package file name.
func packageURL(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.ResolveReference(&url.URL{Path: name}).String(), nil
}

// NewHTTPClient returns the client for package downloads: it refuses to be
// redirected off https (except between loopback addresses, for tests).
func NewHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			return checkDownloadURL(req.URL.String())
		},
	}
}

// download fetches rawURL into path, failing when it takes longer than
// timeout or is larger than limit bytes.
func download(ctx context.Context, client *http.Client, rawURL, path string, limit int64, timeout time.Duration) (int64, error) {
	if err := checkDownloadURL(rawURL); err != nil {
		return 0, fmt.Errorf("%w: %w", errBadURL, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, &HTTPStatusError{URL: rawURL, Status: resp.Status, Code: resp.StatusCode}
	}
	if resp.ContentLength > limit {
		return 0, fmt.Errorf("download %s: %w", rawURL, &sizeError{size: resp.ContentLength, limit: limit})
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > limit {
		err = &sizeError{size: -1, limit: limit}
	}
	if err != nil {
		os.Remove(path)
		return 0, fmt.Errorf("download %s: %w", rawURL, err)
	}
	return n, nil
}

// errBadURL marks a URL refused before any request; retrying cannot help.
var errBadURL = errors.New("refused URL")

// sizeError is a download larger than allowed; retrying cannot help.
type sizeError struct{ size, limit int64 }

func (e *sizeError) Error() string {
	if e.size < 0 {
		return fmt.Sprintf("more than the %d bytes allowed", e.limit)
	}
	return fmt.Sprintf("%d bytes is more than the %d allowed", e.size, e.limit)
}

// Package browser runs the real peers that look at trunkctl's reports:
// headless Chromium (Debian's chromium package) and Mermaid's own CLI
// (@mermaid-js/mermaid-cli, pinned in package.json, on the same Chromium).
// Without them a test skips, or fails when TRUNKCTL_REQUIRE_PEERS=1.
// External is the check that a page loads nothing from outside itself.
package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

// flags keep headless Chromium off the network and away from any profile,
// and let it run as root in a container.
var flags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars"}

// Chromium is the path of the chromium executable, or Missing.
func Chromium(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	peer.Missing(tb, "chromium", "apt-get install chromium (.ci/install-peers)")
	return ""
}

// run runs Chromium on file with extra flags, in a new empty profile,
// bounded by timeout; it returns stdout and how long Chromium ran.
func run(tb testing.TB, timeout time.Duration, file string, extra ...string) ([]byte, time.Duration) {
	tb.Helper()
	bin := Chromium(tb)
	abs, err := filepath.Abs(file)
	if err != nil {
		tb.Fatal(err)
	}
	args := append(append(append([]string{}, flags...), "--user-data-dir="+tb.TempDir()), extra...)
	args = append(args, "file://"+abs)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	if ctx.Err() != nil {
		tb.Fatalf("chromium did not finish within %s: %s", timeout, tail(errOut.String()))
	}
	if err != nil {
		tb.Fatalf("chromium %s: %v: %s", strings.Join(extra, " "), err, tail(errOut.String()))
	}
	return out.Bytes(), took
}

// Screenshot renders an HTML file to a PNG of width x height pixels and
// returns how long Chromium took (start, load, layout, paint, exit).
func Screenshot(tb testing.TB, file, pngPath string, width, height int, timeout time.Duration) time.Duration {
	tb.Helper()
	abs, err := filepath.Abs(pngPath)
	if err != nil {
		tb.Fatal(err)
	}
	_, took := run(tb, timeout, file, "--screenshot="+abs, fmt.Sprintf("--window-size=%d,%d", width, height))
	if _, err := os.Stat(abs); err != nil {
		tb.Fatalf("chromium wrote no screenshot: %v", err)
	}
	return took
}

// DOM is the page's DOM after load, serialized (--dump-dom); with
// javascript false, the page's scripts do not run.
//
// Chromium's --blink-settings=scriptEnabled=false also stops --dump-dom
// (it prints nothing), so the page's scripts are blocked instead by a
// Content-Security-Policy of script-src 'none' put first in a copy of it;
// --dump-dom reads the DOM from outside the page and still works.
func DOM(tb testing.TB, file string, javascript bool, timeout time.Duration) string {
	tb.Helper()
	if !javascript {
		page, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		const csp = `<meta http-equiv="Content-Security-Policy" content="script-src 'none'">`
		i := bytes.Index(page, []byte("<head>"))
		if i < 0 {
			tb.Fatalf("%s has no <head> to put the script policy in", file)
		}
		i += len("<head>")
		noJS := filepath.Join(tb.TempDir(), filepath.Base(file))
		if err := os.WriteFile(noJS, append(append(append([]byte{}, page[:i]...), csp...), page[i:]...), 0o600); err != nil {
			tb.Fatal(err)
		}
		file = noJS
	}
	out, _ := run(tb, timeout, file, "--dump-dom")
	return string(out)
}

// Ink is how the PNG's pixels differ from its corner pixel (the
// background): the share of pixels that differ, and how many distinct
// colours the image has. A blank page has 0 and 1.
func Ink(tb testing.TB, pngPath string) (float64, int) {
	tb.Helper()
	f, err := os.Open(pngPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		tb.Fatalf("decode %s: %v", pngPath, err)
	}
	b := img.Bounds()
	bg := key(img, b.Min.X, b.Min.Y)
	colours := map[uint64]bool{}
	differ := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			k := key(img, x, y)
			colours[k] = true
			if k != bg {
				differ++
			}
		}
	}
	return float64(differ) / float64(b.Dx()*b.Dy()), len(colours)
}

func key(img image.Image, x, y int) uint64 {
	r, g, b, a := img.At(x, y).RGBA()
	return uint64(r)<<48 | uint64(g)<<32 | uint64(b)<<16 | uint64(a)
}

// Mmdc is Mermaid's CLI installed by npm ci at the module root, or Missing.
func Mmdc(tb testing.TB) string {
	tb.Helper()
	root, err := peer.ModuleRoot()
	if err == nil {
		p := filepath.Join(root, "node_modules", ".bin", "mmdc")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	peer.Missing(tb, "mmdc (@mermaid-js/mermaid-cli)", "PUPPETEER_SKIP_DOWNLOAD=1 npm ci at the module root (.ci/install-peers)")
	return ""
}

// ParseMermaid has Mermaid's own parser and renderer read a diagram (mmdc
// on the system Chromium): nil when it renders, else Mermaid's error.
func ParseMermaid(tb testing.TB, diagram []byte, timeout time.Duration) error {
	tb.Helper()
	mmdc, chromium := Mmdc(tb), Chromium(tb)
	dir := tb.TempDir()
	conf := filepath.Join(dir, "puppeteer.json")
	// mmdc's Chromium runs as root in CI containers: no sandbox there.
	if err := os.WriteFile(conf, []byte(`{"args":["`+strings.Join(flags, `","`)+`","--user-data-dir=`+filepath.Join(dir, "profile")+`"]}`), 0o600); err != nil {
		tb.Fatal(err)
	}
	in, out := filepath.Join(dir, "in.mmd"), filepath.Join(dir, "out.svg")
	if err := os.WriteFile(in, diagram, 0o600); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, mmdc, "--quiet", "-p", conf, "-i", in, "-o", out)
	cmd.Env = append(os.Environ(), "PUPPETEER_EXECUTABLE_PATH="+chromium, "PUPPETEER_SKIP_DOWNLOAD=1")
	msg, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		tb.Fatalf("mmdc did not finish within %s", timeout)
	}
	if err != nil {
		return fmt.Errorf("mmdc: %w: %s", err, tail(string(msg)))
	}
	svg, err := os.ReadFile(out)
	if err != nil {
		return fmt.Errorf("mmdc wrote no SVG: %w", err)
	}
	switch {
	case !bytes.Contains(svg, []byte("<svg")):
		return errors.New("mmdc's output is not an SVG: " + tail(string(svg)))
	case bytes.Contains(svg, []byte("Syntax error")):
		return errors.New("mmdc drew Mermaid's syntax error instead of the diagram")
	case bytes.Contains(svg, []byte("Maximum text size")):
		// Past maxTextSize Mermaid draws this message instead.
		return errors.New("mmdc drew Mermaid's \"Maximum text size in diagram exceeded\" instead of the diagram")
	}
	return nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

var (
	// tag is a start tag: text the page writes has its "<" escaped.
	tag = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	// reference is an attribute that makes a browser load or go somewhere.
	reference = regexp.MustCompile(`(?i)\b(src|href|srcset|action|formaction|poster|background|xlink:href|data)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	// cssReference is CSS that loads something.
	cssReference = regexp.MustCompile(`(?i)(@import|url\s*\()`)
)

// External lists what in a page could reach outside it: any reference
// attribute whose value is not a fragment (#id), CSS @import or url(),
// <link>, <iframe>, <object>, <embed>, <base> and meta refresh.
func External(page string) []string {
	var out []string
	for _, t := range tag.FindAllString(page, -1) {
		for _, m := range reference.FindAllStringSubmatch(t, -1) {
			if v := strings.Trim(m[2], `"'`); !strings.HasPrefix(v, "#") {
				out = append(out, m[0])
			}
		}
	}
	out = append(out, cssReference.FindAllString(page, -1)...)
	lower := strings.ToLower(page)
	for _, el := range []string{"<link", "<iframe", "<object", "<embed", "<base", "http-equiv"} {
		if strings.Contains(lower, el) {
			out = append(out, el)
		}
	}
	return out
}

package hostsetup

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trunkctl/trunkctl/internal/catalog"
	"github.com/trunkctl/trunkctl/internal/pkgverify"
	"github.com/trunkctl/trunkctl/internal/pkgverify/pkgverifytest"
	"github.com/trunkctl/trunkctl/internal/testutil/imdsmock"
)

// recordingRunner records every command it is asked to run, answers
// LookPath from a fixed set, and fails the commands listed in fail.
type recordingRunner struct {
	mu       sync.Mutex
	onPath   map[string]bool
	fail     map[string]bool // command string -> fail
	commands []Command
	// onRun, when set, is called for each command (e.g. to inspect the
	// package file at install time).
	onRun func(Command)
}

func newRunner(onPath ...string) *recordingRunner {
	r := &recordingRunner{onPath: map[string]bool{}, fail: map[string]bool{}}
	for _, n := range onPath {
		r.onPath[n] = true
	}
	return r
}

func (r *recordingRunner) LookPath(name string) (string, error) {
	if r.onPath[name] {
		return "/usr/bin/" + name, nil
	}
	return "", errors.New("executable file not found in $PATH")
}

func (r *recordingRunner) Run(_ context.Context, c Command) error {
	r.mu.Lock()
	r.commands = append(r.commands, c)
	hook := r.onRun
	r.mu.Unlock()
	if hook != nil {
		hook(c)
	}
	if r.fail[c.String()] {
		return errors.New("exit status 3")
	}
	return nil
}

// ran returns the recorded commands as strings, with the download
// directory replaced by <dl>.
func (r *recordingRunner) ran() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.commands {
		s := c.String()
		for _, a := range c.Args {
			if strings.Contains(a, "hostbootstrap-") && strings.HasPrefix(a, "/") {
				s = strings.ReplaceAll(s, filepath.Dir(a), "<dl>")
			}
		}
		out = append(out, s)
	}
	return out
}

// host is a fake root file system.
type host struct {
	t    *testing.T
	root string
}

func newHost(t *testing.T) *host {
	return &host{t: t, root: t.TempDir()}
}

func (h *host) write(rel, content string) {
	h.t.Helper()
	p := filepath.Join(h.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *host) readConfig() string {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.root, ConfigPath))
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

const (
	osReleaseAL2023  = "NAME=\"Amazon Linux\"\nVERSION=\"2023\"\nID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\nPRETTY_NAME=\"Amazon Linux 2023.6.20250107\"\n"
	osReleaseAL2     = "NAME=\"Amazon Linux\"\nVERSION=\"2\"\nID=\"amzn\"\nID_LIKE=\"centos rhel fedora\"\nVERSION_ID=\"2\"\nPRETTY_NAME=\"Amazon Linux 2\"\n"
	osReleaseUbuntu  = "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nID=ubuntu\nID_LIKE=debian\n"
	ecsOptimizedUnit = "[Unit]\nDescription=Amazon Elastic Container Service - container agent\nWants=docker.service\nAfter=docker.service\nAfter=cloud-final.service\n"
)

// ecsOptimized is a host with the agent installed, as on an ECS-optimized AMI.
func ecsOptimized(t *testing.T) *host {
	h := newHost(t)
	h.write("etc/os-release", osReleaseAL2023)
	h.write("usr/lib/systemd/system/ecs.service", ecsOptimizedUnit)
	return h
}

// packageServer serves an ecs-init package and its signature on loopback
// and records the paths requested.
type packageServer struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string][]byte
	requests []string
}

func newPackageServer(t *testing.T, files map[string][]byte) *packageServer {
	ps := &packageServer{files: files}
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.mu.Lock()
		ps.requests = append(ps.requests, r.URL.Path)
		body, ok := ps.files[path.Base(r.URL.Path)]
		ps.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(ps.Close)
	return ps
}

func (ps *packageServer) requested() []string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]string(nil), ps.requests...)
}

// signedPackage returns a package, its signature by key, and a verifier
// that trusts key.
func signedPackage(t *testing.T, key *pkgverifytest.Key, name string) (map[string][]byte, *pkgverify.Verifier) {
	pkg := []byte("ecs-init package " + name + "\x00\x01\x02")
	v, err := pkgverify.NewVerifier(bytes.NewReader(key.ArmoredPublicKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{name: pkg, name + ".asc": key.Sign(t, pkg)}, v
}

// servePackage serves name and its signature by a fresh test key (after
// tamper, when given, has changed them), makes e trust that key, and
// returns options that download from the server, and the files served.
func (e *env) servePackage(name string, tamper func(files map[string][]byte)) (Options, *packageServer, map[string][]byte) {
	files, verifier := signedPackage(e.t, pkgverifytest.NewKey(e.t, "Test ECS"), name)
	if tamper != nil {
		tamper(files)
	}
	srv := newPackageServer(e.t, files)
	e.verifier = verifier
	o := e.options()
	o.AgentBaseURL = srv.URL + "/agent/"
	return o, srv, files
}

// env is one test's outside world.
type env struct {
	t        *testing.T
	host     *host
	runner   *recordingRunner
	mock     *imdsmock.Server
	verifier *pkgverify.Verifier
	log      bytes.Buffer
}

func newEnv(t *testing.T, h *host, in imdsmock.Instance, r *recordingRunner) *env {
	m := imdsmock.Start(t, in)
	m.Env(t)
	e := &env{t: t, host: h, runner: r, mock: m}
	v, err := pkgverify.AmazonECS()
	if err != nil {
		t.Fatal(err)
	}
	e.verifier = v
	return e
}

func (e *env) options() Options {
	return Options{
		Cluster:         "prod",
		Root:            e.host.root,
		TempDir:         e.t.TempDir(),
		PollInterval:    10 * time.Millisecond,
		DownloadTimeout: 10 * time.Second,
	}
}

func (e *env) deps() Deps {
	return Deps{
		IMDS:     NewIMDSClient(),
		Runner:   e.runner,
		HTTP:     NewHTTPClient(),
		Verifier: e.verifier,
		Catalog:  catalog.Default(),
		Log:      slog.New(slog.NewJSONHandler(&e.log, nil)),
	}
}

func (e *env) run(o Options) (*Report, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Run(ctx, o, e.deps())
}

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n  got  %q\n  want %q", what, got, want)
	}
}

// snapshot lists every file under root with its content, to prove a run
// wrote nothing.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if fi.IsDir() {
			out[rel+"/"] = fi.Mode().String()
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = fi.Mode().String() + " " + fi.ModTime().String() + " " + string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

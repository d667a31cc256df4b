package release

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/blakesmith/ar"
	"github.com/klauspost/compress/zstd"
	"github.com/sassoftware/go-rpmutils"
	"github.com/ulikunitz/xz"
)

// distEnv names the goreleaser dist directory to check (make release-check sets it).
const distEnv = "TRUNKCTL_RELEASE_DIST"

// release is one goreleaser dist directory.
type release struct {
	dir     string
	version string
	commit  string
}

func openRelease(t *testing.T) release {
	t.Helper()
	dir := os.Getenv(distEnv)
	if dir == "" {
		t.Skipf("%s is not set: run make release-check", distEnv)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err != nil {
		t.Fatalf("not a goreleaser dist: %v", err)
	}
	var meta struct {
		Version string `json:"version"`
		Commit  string `json:"commit"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Version == "" || meta.Commit == "" {
		t.Fatalf("metadata.json has no version or commit: %s", raw)
	}
	return release{dir: dir, version: meta.Version, commit: meta.Commit}
}

func (r release) read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// glob returns the one file matching pattern in the dist directory.
func (r release) glob(t *testing.T, pattern string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(r.dir, pattern))
	if err != nil || len(m) != 1 {
		t.Fatalf("want one file matching %s, got %v (%v)", pattern, m, err)
	}
	return filepath.Base(m[0])
}

type platform struct{ os, arch string }

var (
	trunkctlPlatforms = []platform{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}, {"windows", "amd64"}, {"windows", "arm64"}}
	linuxPlatforms    = []platform{{"linux", "amd64"}, {"linux", "arm64"}}
	// Package architecture names per GOARCH.
	debArch = map[string]string{"amd64": "amd64", "arm64": "arm64"}
	rpmArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}
)

func (r release) trunkctlArchive(p platform) string {
	ext := ".tar.gz"
	if p.os == "windows" {
		ext = ".zip"
	}
	return fmt.Sprintf("trunkctl_%s_%s_%s%s", r.version, p.os, p.arch, ext)
}

func TestReleaseChecksumsCoverEveryArtifactAndMatch(t *testing.T) {
	r := openRelease(t)
	want := []string{"lambda.zip", "guard.zip"}
	for _, p := range trunkctlPlatforms {
		want = append(want, r.trunkctlArchive(p), fmt.Sprintf("trunkctl_%s_%s_%s.cdx.json", r.version, p.os, p.arch))
	}
	for _, p := range linuxPlatforms {
		want = append(want,
			fmt.Sprintf("hostbootstrap_%s_%s_%s.tar.gz", r.version, p.os, p.arch),
			fmt.Sprintf("hostbootstrap_%s_%s_%s.cdx.json", r.version, p.os, p.arch),
			r.glob(t, "hostbootstrap_*_"+debArch[p.arch]+".deb"),
			r.glob(t, "hostbootstrap-*."+rpmArch[p.arch]+".rpm"))
	}
	var got []string
	sc := bufio.NewScanner(bytes.NewReader(r.read(t, "checksums.txt")))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("checksums.txt line %q is not 'SHA256  NAME'", sc.Text())
		}
		h := sha256.Sum256(r.read(t, name))
		if hex.EncodeToString(h[:]) != sum {
			t.Errorf("%s: sha256 %x, checksums.txt says %s", name, h, sum)
		}
		got = append(got, name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("checksums.txt lists\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// entry is one file of an archive or package.
type entry struct {
	mode  os.FileMode
	owner string
	data  []byte
}

func readTarGz(t *testing.T, data []byte) map[string]entry {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return readTar(t, gz)
}

func readTar(t *testing.T, rd io.Reader) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	tr := tar.NewReader(rd)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = entry{mode: os.FileMode(h.Mode).Perm(), owner: h.Uname, data: b}
	}
}

func readZip(t *testing.T, data []byte) map[string]entry {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]entry{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = entry{mode: f.Mode().Perm(), data: b}
	}
	return out
}

func names(m map[string]entry) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// checkExecutable fails unless b is an executable for p.
func checkExecutable(t *testing.T, what string, b []byte, p platform) {
	t.Helper()
	var got platform
	switch p.os {
	case "linux":
		f, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: not ELF: %v", what, err)
		}
		got = platform{"linux", map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64"}[f.Machine]}
	case "darwin":
		f, err := macho.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: not Mach-O: %v", what, err)
		}
		got = platform{"darwin", map[macho.Cpu]string{macho.CpuAmd64: "amd64", macho.CpuArm64: "arm64"}[f.Cpu]}
	case "windows":
		f, err := pe.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: not PE: %v", what, err)
		}
		got = platform{"windows", map[uint16]string{pe.IMAGE_FILE_MACHINE_AMD64: "amd64", pe.IMAGE_FILE_MACHINE_ARM64: "arm64"}[f.Machine]}
	}
	if got != p {
		t.Errorf("%s is a %s/%s executable, want %s/%s", what, got.os, got.arch, p.os, p.arch)
	}
}

func TestReleaseArchivesHoldTheBinaryForTheirPlatformAndTheREADME(t *testing.T) {
	r := openRelease(t)
	check := func(name, binary string, p platform) {
		t.Run(name, func(t *testing.T) {
			var files map[string]entry
			if strings.HasSuffix(name, ".zip") {
				files = readZip(t, r.read(t, name))
			} else {
				files = readTarGz(t, r.read(t, name))
			}
			if want := []string{"README.md", binary}; !slices.Equal(names(files), want) {
				t.Fatalf("holds %v, want %v", names(files), want)
			}
			bin := files[binary]
			if bin.mode != 0o755 {
				t.Errorf("%s has mode %v, want 0755", binary, bin.mode)
			}
			if p.os != "windows" && bin.owner != "root" {
				t.Errorf("%s is owned by %q, want root", binary, bin.owner)
			}
			checkExecutable(t, binary, bin.data, p)
		})
	}
	for _, p := range trunkctlPlatforms {
		binary := "trunkctl"
		if p.os == "windows" {
			binary += ".exe"
		}
		check(r.trunkctlArchive(p), binary, p)
	}
	for _, p := range linuxPlatforms {
		check(fmt.Sprintf("hostbootstrap_%s_%s_%s.tar.gz", r.version, p.os, p.arch), "hostbootstrap", p)
	}
}

// The binaries this machine can run report the release's version and commit.
func TestReleaseBinariesReportTheReleaseVersionAndCommit(t *testing.T) {
	r := openRelease(t)
	if runtime.GOOS != "linux" {
		t.Skipf("checks the linux binaries; this is %s", runtime.GOOS)
	}
	p := platform{"linux", runtime.GOARCH}
	dir := t.TempDir()
	extract := func(archive, binary string) string {
		path := filepath.Join(dir, binary)
		if err := os.WriteFile(path, readTarGz(t, r.read(t, archive))[binary].data, 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	trunkctl := extract(r.trunkctlArchive(p), "trunkctl")
	out, err := exec.Command(trunkctl, "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("trunkctl version -o json: %v", err)
	}
	var v struct {
		Version, Commit, Date, GoVersion string
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if v.Version != "v"+r.version || v.Commit != r.commit || v.Date == "unknown" || v.GoVersion == "" {
		t.Errorf("trunkctl version says %+v, want version v%s, commit %s and a date", v, r.version, r.commit)
	}
	hb := extract(fmt.Sprintf("hostbootstrap_%s_%s_%s.tar.gz", r.version, p.os, p.arch), "hostbootstrap")
	out, err = exec.Command(hb, "--version").Output()
	if err != nil {
		t.Fatalf("hostbootstrap --version: %v", err)
	}
	if want := "hostbootstrap version v" + r.version + "\ncommit: " + r.commit + "\n"; !strings.HasPrefix(string(out), want) {
		t.Errorf("hostbootstrap --version says\n%s\nwant it to start with\n%s", out, want)
	}
}

// decompress picks the reader for the compressed stream b by its magic number.
func decompress(t *testing.T, b []byte) io.Reader {
	t.Helper()
	switch {
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return r
	case bytes.HasPrefix(b, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		r, err := xz.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return r
	case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		r, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Fatalf("unknown compression (magic % x)", b[:min(6, len(b))])
	return nil
}

// readDeb returns the data files of a .deb (an ar archive of debian-binary,
// control.tar.* and data.tar.*) and its control file.
func readDeb(t *testing.T, b []byte) (map[string]entry, string) {
	t.Helper()
	files, control := map[string]entry{}, ""
	ar := ar.NewReader(bytes.NewReader(b))
	for {
		h, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		member, err := io.ReadAll(ar)
		if err != nil {
			t.Fatal(err)
		}
		switch name := strings.TrimSuffix(h.Name, "/"); {
		case strings.HasPrefix(name, "data.tar"):
			files = readTar(t, decompress(t, member))
		case strings.HasPrefix(name, "control.tar"):
			control = string(readTar(t, decompress(t, member))["./control"].data)
		}
	}
	return files, control
}

// readRPM returns the files of an .rpm, from its header (what `rpm -qlp`
// lists) with their contents from the payload, and its name and architecture.
func readRPM(t *testing.T, b []byte) (map[string]entry, *rpmutils.NEVRA) {
	t.Helper()
	pkg, err := rpmutils.ReadRpm(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	nevra, err := pkg.Header.GetNEVRA()
	if err != nil {
		t.Fatal(err)
	}
	listed, err := pkg.Header.GetFiles()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]entry{}
	for _, f := range listed {
		out[f.Name()] = entry{mode: os.FileMode(f.Mode()).Perm(), owner: f.UserName()}
	}
	payload, err := pkg.PayloadReaderExtended()
	if err != nil {
		t.Fatal(err)
	}
	for {
		f, err := payload.Next()
		if errors.Is(err, io.EOF) {
			return out, nevra
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(payload)
		if err != nil {
			t.Fatal(err)
		}
		e := out[f.Name()]
		e.data = data
		out[f.Name()] = e
	}
}

func TestReleasePackagesInstallHostbootstrapInUsrBin(t *testing.T) {
	r := openRelease(t)
	for _, p := range linuxPlatforms {
		deb := r.glob(t, "hostbootstrap_*_"+debArch[p.arch]+".deb")
		t.Run(deb, func(t *testing.T) {
			files, control := readDeb(t, r.read(t, deb))
			if want := []string{"./usr/bin/hostbootstrap"}; !slices.Equal(names(files), want) {
				t.Fatalf("installs %v, want %v", names(files), want)
			}
			if f := files["./usr/bin/hostbootstrap"]; f.mode != 0o755 || f.owner != "root" {
				t.Errorf("/usr/bin/hostbootstrap is %v owned by %q, want 0755 root", f.mode, f.owner)
			}
			checkExecutable(t, "/usr/bin/hostbootstrap", files["./usr/bin/hostbootstrap"].data, p)
			for _, want := range []string{"Package: hostbootstrap\n", "Architecture: " + debArch[p.arch] + "\n"} {
				if !strings.Contains(control, want) {
					t.Errorf("control file lacks %q:\n%s", want, control)
				}
			}
			// dpkg's own reading, where it is installed.
			if dpkgDeb, err := exec.LookPath("dpkg-deb"); err == nil {
				out, err := exec.Command(dpkgDeb, "-c", filepath.Join(r.dir, deb)).CombinedOutput()
				if err != nil || !strings.Contains(string(out), " ./usr/bin/hostbootstrap\n") {
					t.Errorf("dpkg-deb -c: %v\n%s", err, out)
				}
			}
		})
		rpm := r.glob(t, "hostbootstrap-*."+rpmArch[p.arch]+".rpm")
		t.Run(rpm, func(t *testing.T) {
			files, nevra := readRPM(t, r.read(t, rpm))
			if want := []string{"/usr/bin/hostbootstrap"}; !slices.Equal(names(files), want) {
				t.Fatalf("installs %v, want %v", names(files), want)
			}
			if f := files["/usr/bin/hostbootstrap"]; f.mode != 0o755 || f.owner != "root" {
				t.Errorf("/usr/bin/hostbootstrap is %v owned by %q, want 0755 root", f.mode, f.owner)
			}
			checkExecutable(t, "/usr/bin/hostbootstrap", files["/usr/bin/hostbootstrap"].data, p)
			if nevra.Name != "hostbootstrap" || nevra.Arch != rpmArch[p.arch] {
				t.Errorf("package %s.%s, want hostbootstrap.%s", nevra.Name, nevra.Arch, rpmArch[p.arch])
			}
			if rpmBin, err := exec.LookPath("rpm"); err == nil {
				out, err := exec.Command(rpmBin, "-qlp", filepath.Join(r.dir, rpm)).CombinedOutput()
				if err != nil || strings.TrimSpace(string(out)) != "/usr/bin/hostbootstrap" {
					t.Errorf("rpm -qlp: %v\n%s", err, out)
				}
			}
		})
	}
}

func TestReleaseLambdaZipsHoldAnArm64Bootstrap(t *testing.T) {
	r := openRelease(t)
	for _, zip := range []string{"lambda.zip", "guard.zip"} {
		t.Run(zip, func(t *testing.T) {
			files := readZip(t, r.read(t, zip))
			if want := []string{"bootstrap"}; !slices.Equal(names(files), want) {
				t.Fatalf("holds %v, want %v", names(files), want)
			}
			if files["bootstrap"].mode != 0o755 {
				t.Errorf("bootstrap has mode %v, want 0755", files["bootstrap"].mode)
			}
			checkExecutable(t, "bootstrap", files["bootstrap"].data, platform{"linux", "arm64"})
		})
	}
}

func TestReleaseSBOMsListTheModulesOfEachBinaryReproducibly(t *testing.T) {
	r := openRelease(t)
	sboms, err := filepath.Glob(filepath.Join(r.dir, "*.cdx.json"))
	if err != nil || len(sboms) != 8 {
		t.Fatalf("want 8 SBOMs (6 trunkctl, 2 hostbootstrap), got %d (%v)", len(sboms), err)
	}
	for _, path := range sboms {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			var bom struct {
				BOMFormat    string `json:"bomFormat"`
				SerialNumber string `json:"serialNumber"`
				Metadata     struct {
					Timestamp string `json:"timestamp"`
					Component struct {
						Name    string `json:"name"`
						Version string `json:"version"`
					} `json:"component"`
				} `json:"metadata"`
				Components []struct {
					Name string `json:"name"`
				} `json:"components"`
			}
			if err := json.Unmarshal(r.read(t, name), &bom); err != nil {
				t.Fatal(err)
			}
			if bom.BOMFormat != "CycloneDX" || bom.Metadata.Component.Name != "github.com/trunkctl/trunkctl" || bom.Metadata.Component.Version != r.version {
				t.Errorf("format %q, component %q %q; want CycloneDX, github.com/trunkctl/trunkctl %s",
					bom.BOMFormat, bom.Metadata.Component.Name, bom.Metadata.Component.Version, r.version)
			}
			if bom.SerialNumber != "" || bom.Metadata.Timestamp != "" {
				t.Errorf("serial number %q and timestamp %q make builds differ", bom.SerialNumber, bom.Metadata.Timestamp)
			}
			want := "github.com/spf13/cobra" // trunkctl's; hostbootstrap must not link it
			if strings.HasPrefix(name, "hostbootstrap") {
				want = "github.com/ProtonMail/go-crypto"
			}
			if !slices.ContainsFunc(bom.Components, func(c struct {
				Name string `json:"name"`
			}) bool {
				return c.Name == want
			}) {
				t.Errorf("components lack %s", want)
			}
		})
	}
}

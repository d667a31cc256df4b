package pkgverify_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/trunkctl/trunkctl/internal/pkgverify"
	"github.com/trunkctl/trunkctl/internal/pkgverify/pkgverifytest"
	"github.com/trunkctl/trunkctl/internal/testutil/peer"
)

func TestTheEmbeddedAmazonECSKeyHasThePublishedFingerprint(t *testing.T) {
	v, err := pkgverify.AmazonECS()
	if err != nil {
		t.Fatal(err)
	}
	fps := v.Fingerprints()
	if len(fps) != 1 || fps[0] != "F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F" {
		t.Fatalf("fingerprints %v, want exactly F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F", fps)
	}
	if !strings.HasSuffix(fps[0], pkgverify.AmazonECSKeyID) || fps[0] != pkgverify.AmazonECSFingerprint {
		t.Errorf("constants disagree with the key: %s / %s", pkgverify.AmazonECSFingerprint, pkgverify.AmazonECSKeyID)
	}
	if !bytes.Contains(pkgverify.AmazonECSKey(), []byte("BEGIN PGP PUBLIC KEY BLOCK")) {
		t.Error("AmazonECSKey is not an armored public key")
	}
}

func TestTheEmbeddedKeyIsTheSharedCopy(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "shared", "data", "amazon-ecs-agent.gpg")
	want, err := os.ReadFile(shared)
	if err != nil {
		peer.Missing(t, "shared/data/amazon-ecs-agent.gpg", "check out shared/ next to the repository")
	}
	if !bytes.Equal(pkgverify.AmazonECSKey(), want) {
		t.Errorf("internal/pkgverify/amazon-ecs-agent.gpg differs from %s; copy it again", shared)
	}
}

func TestVerify(t *testing.T) {
	key := pkgverifytest.NewKey(t, "Test signer")
	other := pkgverifytest.NewKey(t, "Someone else")
	v, err := pkgverify.NewVerifier(bytes.NewReader(key.ArmoredPublicKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	pkg := []byte("\xed\xab\xee\xdb this is an rpm, honestly")
	good := key.Sign(t, pkg)

	t.Run("a good signature names the signer", func(t *testing.T) {
		s, err := v.Verify("pkg", bytes.NewReader(pkg), bytes.NewReader(good))
		if err != nil {
			t.Fatal(err)
		}
		if s.KeyID != fmt.Sprintf("%016X", key.KeyID()) || s.Fingerprint != v.Fingerprints()[0] || !strings.HasPrefix(s.Identity, "Test signer") {
			t.Errorf("signer %+v", s)
		}
	})

	tamperedSig := tamper(t, good)
	bad := []struct {
		name     string
		pkg, sig []byte
	}{
		{"a tampered package is rejected", append(bytes.Clone(pkg), 'x'), good},
		{"a package with one flipped bit is rejected", flipBit(pkg), good},
		{"a signature with a corrupted header is rejected", pkg, tamperedSig},
		{"a signature with a corrupted signature value is rejected", pkg, tamperValue(t, good)},
		{"a signature by a key not in the keyring is rejected", pkg, other.Sign(t, pkg)},
		{"a text-mode signature is rejected", pkg, key.SignText(t, pkg)},
		{"an empty signature is rejected", pkg, nil},
		{"a signature that is not armored is rejected", pkg, []byte("not a signature")},
		{"text before the armored block is rejected", pkg, append([]byte("junk\n"), good...)},
		{"a public key instead of a signature is rejected", pkg, key.ArmoredPublicKey(t)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify("pkg", bytes.NewReader(tt.pkg), bytes.NewReader(tt.sig))
			var verr *pkgverify.Error
			if !errors.As(err, &verr) {
				t.Fatalf("Verify = %v, want a *pkgverify.Error", err)
			}
		})
	}
}

func TestAnRSASignatureLikeAmazonsVerifies(t *testing.T) {
	key := pkgverifytest.NewRSAKey(t, "RSA signer", 2048)
	v, err := pkgverify.NewVerifier(bytes.NewReader(key.ArmoredPublicKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	pkg := []byte("deb")
	if _, err := v.Verify("pkg", bytes.NewReader(pkg), bytes.NewReader(key.Sign(t, pkg))); err != nil {
		t.Fatal(err)
	}
	var verr *pkgverify.Error
	if _, err := v.Verify("pkg", bytes.NewReader(flipBit(pkg)), bytes.NewReader(key.Sign(t, pkg))); !errors.As(err, &verr) {
		t.Fatalf("Verify of a changed package = %v, want a *pkgverify.Error", err)
	}
}

func TestTheAmazonVerifierRejectsATestKeySignature(t *testing.T) {
	key := pkgverifytest.NewKey(t, "Impostor")
	v, err := pkgverify.AmazonECS()
	if err != nil {
		t.Fatal(err)
	}
	pkg := []byte("package")
	var verr *pkgverify.Error
	if _, err := v.Verify("pkg", bytes.NewReader(pkg), bytes.NewReader(key.Sign(t, pkg))); !errors.As(err, &verr) {
		t.Fatalf("Verify = %v, want a *pkgverify.Error", err)
	}
}

func TestVerifyFilesReadsBothFiles(t *testing.T) {
	key := pkgverifytest.NewKey(t, "Test signer")
	v, err := pkgverify.NewVerifier(bytes.NewReader(key.ArmoredPublicKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pkg := filepath.Join(dir, "amazon-ecs-init-latest.x86_64.rpm")
	if err := os.WriteFile(pkg, []byte("rpm"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pkg+".asc", key.Sign(t, []byte("rpm")), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyFiles("pkg", pkg, pkg+".asc"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyFiles("pkg", pkg, filepath.Join(dir, "missing.asc")); err == nil {
		t.Fatal("verified against a missing signature file")
	}
}

// tamper changes one character of the base64 body of an armored signature,
// keeping it well-formed enough to parse past the armor where possible.
func tamper(t *testing.T, armored []byte) []byte {
	t.Helper()
	lines := strings.Split(string(armored), "\n")
	for i, l := range lines {
		if i > 1 && len(l) > 20 && !strings.HasPrefix(l, "-----") && !strings.HasPrefix(l, "=") {
			b := []byte(l)
			if b[10] == 'A' {
				b[10] = 'B'
			} else {
				b[10] = 'A'
			}
			lines[i] = string(b)
			return []byte(strings.Join(lines, "\n"))
		}
	}
	t.Fatal("no body line to tamper with")
	return nil
}

// tamperValue flips a bit in the last bytes of the signature packet (the
// signature value itself) and armors it again, so parsing succeeds and only
// the cryptographic check can fail.
func tamperValue(t *testing.T, armored []byte) []byte {
	t.Helper()
	block, err := armor.Decode(bytes.NewReader(armored))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(block.Body)
	if err != nil {
		t.Fatal(err)
	}
	body[len(body)-3] ^= 0x01
	var b bytes.Buffer
	w, _ := armor.Encode(&b, block.Type, nil)
	_, _ = w.Write(body)
	w.Close()
	return b.Bytes()
}

func flipBit(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)/2] ^= 0x01
	return c
}

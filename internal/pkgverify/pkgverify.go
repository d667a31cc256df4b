// Package pkgverify checks the detached OpenPGP signature that Amazon
// publishes next to every ecs-init package (<package>.asc), with an OpenPGP
// library and a public key built into the binary, never with gpg on PATH or
// a key fetched at run time.
package pkgverify

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// The public key that signs the ecs-init packages, copied from
// scripts/amazon-ecs-agent.gpg in aws/amazon-ecs-agent (via shared/data).
//
//go:embed amazon-ecs-agent.gpg
var amazonECSKey []byte

const (
	// AmazonECSFingerprint is the fingerprint of the Amazon ECS signing key.
	AmazonECSFingerprint = "F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F"
	// AmazonECSKeyID is its long key id.
	AmazonECSKeyID = "BCE9D9A42D51784F"
)

// AmazonECSKey returns the embedded ASCII-armored Amazon ECS public key.
func AmazonECSKey() []byte { return bytes.Clone(amazonECSKey) }

// Error is a signature that does not verify: a tampered package or
// signature, a signature by another key, or one that is not a detached
// signature at all. Callers map it to its own exit code.
type Error struct {
	What string
	Err  error
}

func (e *Error) Error() string {
	return fmt.Sprintf("signature of %s does not verify: %v", e.What, e.Err)
}
func (e *Error) Unwrap() error { return e.Err }

// Signer describes the key that made a good signature.
type Signer struct {
	// KeyID is the long id of the (sub)key that signed, in hex.
	KeyID string
	// Fingerprint is the primary key's fingerprint, in hex.
	Fingerprint string
	// Identity is the primary key's user id, e.g. "Amazon ECS <ecs-security@amazon.com>".
	Identity string
}

// Verifier checks detached signatures against a fixed keyring.
type Verifier struct {
	keyring openpgp.EntityList
}

// NewVerifier reads an ASCII-armored public keyring.
func NewVerifier(armoredKeyring io.Reader) (*Verifier, error) {
	el, err := openpgp.ReadArmoredKeyRing(armoredKeyring)
	if err != nil {
		return nil, fmt.Errorf("read OpenPGP keyring: %w", err)
	}
	if len(el) == 0 {
		return nil, errors.New("read OpenPGP keyring: no keys")
	}
	return &Verifier{keyring: el}, nil
}

// AmazonECS returns a Verifier that trusts only the embedded Amazon ECS key.
func AmazonECS() (*Verifier, error) {
	return NewVerifier(bytes.NewReader(amazonECSKey))
}

// Fingerprints lists the primary key fingerprints the verifier trusts.
func (v *Verifier) Fingerprints() []string {
	var out []string
	for _, e := range v.keyring {
		out = append(out, fmt.Sprintf("%X", e.PrimaryKey.Fingerprint))
	}
	return out
}

// Verify checks that armoredSig is a good detached binary-document
// signature of signed by a key in the keyring. Any failure is an *Error.
func (v *Verifier) Verify(what string, signed, armoredSig io.Reader) (Signer, error) {
	sigData, err := io.ReadAll(armoredSig)
	if err != nil {
		return Signer{}, fmt.Errorf("read signature of %s: %w", what, err)
	}
	// The armor decoder accepts text before the block; a signature file is
	// nothing but the block.
	if !bytes.HasPrefix(bytes.TrimSpace(sigData), []byte("-----BEGIN PGP SIGNATURE-----")) {
		return Signer{}, &Error{What: what, Err: errors.New("not an ASCII-armored OpenPGP signature")}
	}
	body, err := armorBody(sigData)
	if err != nil {
		return Signer{}, &Error{What: what, Err: err}
	}
	sig, signer, err := openpgp.VerifyDetachedSignature(v.keyring, signed, bytes.NewReader(body), nil)
	if err != nil {
		return Signer{}, &Error{What: what, Err: err}
	}
	if sig.SigType != packet.SigTypeBinary {
		return Signer{}, &Error{What: what, Err: fmt.Errorf("signature type %#x is not a binary document signature", sig.SigType)}
	}
	s := Signer{Fingerprint: fmt.Sprintf("%X", signer.PrimaryKey.Fingerprint)}
	if sig.IssuerKeyId != nil {
		s.KeyID = fmt.Sprintf("%016X", *sig.IssuerKeyId)
	}
	if id := signer.PrimaryIdentity(); id != nil {
		s.Identity = id.Name
	}
	return s, nil
}

// armorBody decodes one armored signature block.
func armorBody(data []byte) ([]byte, error) {
	block, err := armor.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode armor: %w", err)
	}
	if block.Type != openpgp.SignatureType {
		return nil, fmt.Errorf("armored block is %q, not %q", block.Type, openpgp.SignatureType)
	}
	body, err := io.ReadAll(block.Body)
	if err != nil {
		return nil, fmt.Errorf("decode armor: %w", err)
	}
	return body, nil
}

// VerifyFiles verifies the file at pkgPath against the armored signature at
// sigPath; what names the package in errors (e.g. its URL).
func (v *Verifier) VerifyFiles(what, pkgPath, sigPath string) (Signer, error) {
	pkg, err := os.Open(pkgPath)
	if err != nil {
		return Signer{}, err
	}
	defer pkg.Close()
	sig, err := os.Open(sigPath)
	if err != nil {
		return Signer{}, err
	}
	defer sig.Close()
	return v.Verify(what, pkg, sig)
}

// Package pkgverifytest makes throw-away OpenPGP signing keys for tests, so
// signature checks are exercised with real signatures without Amazon's
// private key.
package pkgverifytest

import (
	"bytes"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Key is a test signing key.
type Key struct {
	entity *openpgp.Entity
	config *packet.Config
}

var config = &packet.Config{Algorithm: packet.PubKeyAlgoEd25519}

// NewKey generates an Ed25519 key (fast, unlike RSA) for name.
func NewKey(tb testing.TB, name string) *Key {
	tb.Helper()
	e, err := openpgp.NewEntity(name, "test", "test@example.invalid", config)
	if err != nil {
		tb.Fatalf("generate test key: %v", err)
	}
	return &Key{entity: e, config: config}
}

// NewRSAKey generates an RSA key like Amazon's (slower; use sparingly).
func NewRSAKey(tb testing.TB, name string, bits int) *Key {
	tb.Helper()
	c := &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: bits}
	e, err := openpgp.NewEntity(name, "test", "test@example.invalid", c)
	if err != nil {
		tb.Fatalf("generate test key: %v", err)
	}
	return &Key{entity: e, config: c}
}

// ArmoredPublicKey returns the public key, ASCII-armored.
func (k *Key) ArmoredPublicKey(tb testing.TB) []byte {
	tb.Helper()
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := k.entity.Serialize(w); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// Sign returns an ASCII-armored detached binary signature of data, as in
// the .asc files next to the ecs-init packages.
func (k *Key) Sign(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, k.entity, bytes.NewReader(data), k.config); err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return b.Bytes()
}

// SignText returns an armored detached text-mode signature of data.
func (k *Key) SignText(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSignText(&b, k.entity, bytes.NewReader(data), k.config); err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return b.Bytes()
}

// KeyID returns the long id of the key that signs, in hex.
func (k *Key) KeyID() uint64 {
	if s, ok := k.entity.SigningKey(k.entity.PrimaryKey.CreationTime); ok {
		return s.PublicKey.KeyId
	}
	return k.entity.PrimaryKey.KeyId
}

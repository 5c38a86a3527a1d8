package trail

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// VerifierKeyOf returns the signed-note verifier key ("name+hash+base64")
// of an Ed25519 signed-note private key
// ("PRIVATE+KEY+name+hash+base64(0x01 ‖ 32-byte seed)"), as note.GenerateKey
// writes them.
func VerifierKeyOf(skey string) (string, error) {
	s, err := note.NewSigner(skey) // checks the format and the key hash
	if err != nil {
		return "", fmt.Errorf("trail: signing key: %w", err)
	}
	parts := strings.SplitN(skey, "+", 5) // PRIVATE, KEY, name, hash, key (whose base64 may hold '+')
	raw, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("trail: signing key: not an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(s.Name(), pub)
}

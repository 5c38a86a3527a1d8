package trail

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// MaxKeyFileBytes bounds a trail key file.
const MaxKeyFileBytes = 16 << 10

// Keys are the log's keys, as a key file lists them: the current signing
// key, previous signing keys that still cosign every checkpoint (during a
// rotation), and the verifier keys of retired keys, which sign nothing
// but verify old checkpoints. All share one name, the log's origin.
type Keys struct {
	Signer     note.Signer   // the current key
	Cosigners  []note.Signer // previous keys that still sign
	Verifiers  []string      // every verifier key: the current one first, then previous and retired ones
	signerKeys []string      // the private keys, current first, to write the file again
}

// ParseKeyFile reads a key file: one key per line, blank lines and lines
// starting with '#' ignored. The first private key
// ("PRIVATE+KEY+name+hash+…") is the current one, later private keys
// cosign, and verifier keys ("name+hash+…") are retired keys.
func ParseKeyFile(text string) (Keys, error) {
	if len(text) > MaxKeyFileBytes {
		return Keys{}, errors.New("trail: key file too long")
	}
	var k Keys
	var retired []string
	seen := map[string]bool{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		vkey := line
		if strings.HasPrefix(line, "PRIVATE+KEY+") {
			s, err := note.NewSigner(line)
			if err != nil {
				return Keys{}, fmt.Errorf("trail: key file line %d: %w", n+1, err)
			}
			if vkey, err = VerifierKeyOf(line); err != nil {
				return Keys{}, fmt.Errorf("trail: key file line %d: %w", n+1, err)
			}
			if k.Signer == nil {
				k.Signer = s
			} else {
				k.Cosigners = append(k.Cosigners, s)
			}
			k.signerKeys = append(k.signerKeys, line)
			k.Verifiers = append(k.Verifiers, vkey)
		} else {
			if _, err := note.NewVerifier(line); err != nil {
				return Keys{}, fmt.Errorf("trail: key file line %d: not a key: %w", n+1, err)
			}
			retired = append(retired, line)
		}
		if seen[vkey] {
			return Keys{}, fmt.Errorf("trail: key file line %d: the same key twice", n+1)
		}
		seen[vkey] = true
	}
	if k.Signer == nil {
		return Keys{}, errors.New("trail: the key file has no signing key")
	}
	k.Verifiers = append(k.Verifiers, retired...)
	for _, v := range k.Verifiers {
		nv, _ := note.NewVerifier(v)
		if nv.Name() != k.Signer.Name() {
			return Keys{}, fmt.Errorf("trail: the key file mixes the names %q and %q", k.Signer.Name(), nv.Name())
		}
	}
	return k, nil
}

// Rotate returns a key file text with a new current key of the same name,
// the old signing keys kept as cosigners (so a verifier that knows only
// an old key can follow to the new one), and the retired keys unchanged;
// and the new key's verifier key.
func (k Keys) Rotate() (text, vkey string, err error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, k.Signer.Name())
	if err != nil {
		return "", "", fmt.Errorf("trail: new key: %w", err)
	}
	var b strings.Builder
	b.WriteString("# the trail's signing keys: the first signs, the other private keys cosign, public keys are retired\n")
	b.WriteString(skey + "\n")
	for _, s := range k.signerKeys {
		b.WriteString(s + "\n")
	}
	for _, v := range k.Verifiers[len(k.signerKeys):] {
		b.WriteString(v + "\n")
	}
	return b.String(), vkey, nil
}

package trail

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Cosignatures follow https://c2sp.org/tlog-cosignature ("Format" and
// "Ed25519 signed message"): a witness signs, with Ed25519,
//
//	"cosignature/v1\n" + "time <POSIX seconds>\n" + <whole checkpoint body>
//
// and the note signature is base64(key ID ‖ timestamp ‖ signature), the
// timestamp a big-endian u64 (timestamped_signature, RFC 8446 §3.3
// serialisation). The key ID is SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4],
// 0x04 being the signature type that https://c2sp.org/signed-note
// ("Signature types") assigns to timestamped Ed25519 witness cosignatures.

// cosignatureType is the signed-note signature type of cosignature/v1.
const cosignatureType = 0x04

// cosignatureLen is the length of a timestamped_signature: u64 timestamp
// and a 64-byte Ed25519 signature (the key ID is stripped by note.Open).
const cosignatureLen = 8 + ed25519.SignatureSize

// cosignatureKeyID is the signed-note key ID of an Ed25519 cosigner key.
func cosignatureKeyID(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', cosignatureType})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil)[:4])
}

// cosignedMessage is the message a cosignature/v1 signs at time t over the
// checkpoint body text (which ends in a newline).
func cosignedMessage(t uint64, text []byte) []byte {
	m := make([]byte, 0, 48+len(text))
	m = append(m, "cosignature/v1\ntime "...)
	m = strconv.AppendUint(m, t, 10)
	m = append(m, '\n')
	return append(m, text...)
}

// validKeyName reports whether name can name a signed-note key: non-empty
// UTF-8 without Unicode spaces or '+' (https://c2sp.org/signed-note,
// "Format"; the same rule as golang.org/x/mod/sumdb/note).
func validKeyName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 &&
		!strings.Contains(name, "+")
}

// CosignatureVerifier verifies a witness's cosignature/v1 signatures. It is
// a note.Verifier, so a note.VerifierList holding it and the log's verifier
// lets OpenCheckpoint or note.Open check a cosigned checkpoint.
type CosignatureVerifier struct {
	name string
	id   uint32
	key  ed25519.PublicKey
}

// NewCosignatureVerifier parses a witness's verifier key, in the vkey form
// of https://c2sp.org/signed-note: "<name>+<key ID, 8 hex digits>+<base64
// of 0x04 ‖ 32-byte Ed25519 public key>". The key ID must be the one the
// name and key give.
func NewCosignatureVerifier(vkey string) (*CosignatureVerifier, error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	id16, key64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 || !validKeyName(name) {
		return nil, errors.New("trail: malformed cosigner key")
	}
	id, err := strconv.ParseUint(id16, 16, 32)
	if err != nil || len(id16) != 8 {
		return nil, errors.New("trail: malformed cosigner key ID")
	}
	key, err := base64.StdEncoding.Strict().DecodeString(key64)
	if err != nil || len(key) != 1+ed25519.PublicKeySize {
		return nil, errors.New("trail: malformed cosigner public key")
	}
	if key[0] != cosignatureType {
		return nil, fmt.Errorf("trail: cosigner key of type %#02x, not cosignature/v1 (0x04)", key[0])
	}
	pub := ed25519.PublicKey(key[1:])
	if cosignatureKeyID(name, pub) != uint32(id) {
		return nil, errors.New("trail: cosigner key ID does not match its name and key")
	}
	return &CosignatureVerifier{name: name, id: uint32(id), key: pub}, nil
}

// Name is the witness's name.
func (v *CosignatureVerifier) Name() string { return v.name }

// KeyHash is the key ID.
func (v *CosignatureVerifier) KeyHash() uint32 { return v.id }

// Verify reports whether sig, a timestamped_signature without its key ID,
// is a cosignature/v1 of the note text msg.
func (v *CosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != cosignatureLen {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t > math.MaxInt64 { // tlog-cosignature: "MUST NOT exceed 2^63 - 1"
		return false
	}
	return ed25519.Verify(v.key, cosignedMessage(t, msg), sig[8:])
}

// String is the verifier key.
func (v *CosignatureVerifier) String() string { return cosignerVKey(v.name, v.key) }

func cosignerVKey(name string, pub ed25519.PublicKey) string {
	return fmt.Sprintf("%s+%08x+%s", name, cosignatureKeyID(name, pub),
		base64.StdEncoding.EncodeToString(append([]byte{cosignatureType}, pub...)))
}

// CosignatureTime returns the time in a cosignature/v1 note signature
// that v verifies (its Base64 as note.Signature holds it).
func (v *CosignatureVerifier) CosignatureTime(sigBase64 string) (time.Time, error) {
	b, err := base64.StdEncoding.DecodeString(sigBase64)
	if err != nil || len(b) != 4+cosignatureLen || binary.BigEndian.Uint32(b) != v.id {
		return time.Time{}, errors.New("trail: not a cosignature by this key")
	}
	t := binary.BigEndian.Uint64(b[4:])
	if t > math.MaxInt64 {
		return time.Time{}, errors.New("trail: cosignature time out of range")
	}
	return time.Unix(int64(t), 0).UTC(), nil
}

// Cosigner makes cosignature/v1 signatures: a note.Signer for a witness.
// The service itself does not cosign; the local stand-in witness and the
// tests do.
type Cosigner struct {
	name  string
	id    uint32
	key   ed25519.PrivateKey
	clock func() time.Time
}

// NewCosigner returns a cosigner named name (a schema-less URL, such as
// "witness.example.org/w1") with the given key. clock gives the time put
// in each cosignature; nil means time.Now.
func NewCosigner(name string, key ed25519.PrivateKey, clock func() time.Time) (*Cosigner, error) {
	if !validKeyName(name) {
		return nil, fmt.Errorf("trail: bad cosigner name %q", name)
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("trail: bad Ed25519 private key")
	}
	if clock == nil {
		clock = time.Now
	}
	pub := key.Public().(ed25519.PublicKey)
	return &Cosigner{name: name, id: cosignatureKeyID(name, pub), key: key, clock: clock}, nil
}

// GenerateCosigner returns a cosigner with a new key read from rand.
func GenerateCosigner(rand io.Reader, name string) (*Cosigner, error) {
	_, key, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, err
	}
	return NewCosigner(name, key, nil)
}

// Name is the witness's name.
func (s *Cosigner) Name() string { return s.name }

// KeyHash is the key ID.
func (s *Cosigner) KeyHash() uint32 { return s.id }

// VerifierKey is the vkey that NewCosignatureVerifier takes.
func (s *Cosigner) VerifierKey() string {
	return cosignerVKey(s.name, s.key.Public().(ed25519.PublicKey))
}

// Sign cosigns msg, which must be a checkpoint body: a cosignature is a
// statement about a checkpoint and nothing else.
func (s *Cosigner) Sign(msg []byte) ([]byte, error) {
	if _, err := ParseCheckpoint(msg); err != nil {
		return nil, fmt.Errorf("trail: cosign: %w", err)
	}
	t := s.clock().Unix()
	if t < 0 {
		return nil, errors.New("trail: cosign: clock before 1970")
	}
	sig := binary.BigEndian.AppendUint64(make([]byte, 0, cosignatureLen), uint64(t))
	return append(sig, ed25519.Sign(s.key, cosignedMessage(uint64(t), msg))...), nil
}

package trail

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// EntryVersion is the version of the entry format this package writes.
const EntryVersion = 1

// MaxEntryBytes bounds one entry's encoding; Parse refuses longer input.
const MaxEntryBytes = 4096

// The kinds of entry. A kind is lower-case words joined by dots.
const (
	KindVerificationStarted   = "verification.started"
	KindVerificationOpened    = "verification.opened"
	KindVerificationSucceeded = "verification.succeeded"
	KindVerificationFailed    = "verification.failed"
	KindVerificationCancelled = "verification.cancelled"
	KindVerificationExpired   = "verification.expired"
	KindDisclosure            = "disclosure"
	KindDeposit               = "deposit"
	KindTrailRequest          = "trail.request"
	KindErasure               = "erasure"
	KindKeyRotation           = "log.key"
)

// Entry is one record of the trail. It carries no personal data: a person
// appears only as Subject, an opaque random handle whose link to the
// person is kept outside the log (encrypted, and destroyed on erasure).
//
// Seq numbers the subject's entries from 1 with no gap, and Prev is the
// leaf hash of the subject's entry Seq-1, so that anyone holding a
// person's entries can tell whether one is missing: an inclusion proof
// alone shows that an entry is in the log, never that none was left out.
type Entry struct {
	V       int               `json:"v"`
	Kind    string            `json:"kind"`
	Time    time.Time         `json:"time"`              // UTC, millisecond precision
	Subject string            `json:"subject,omitempty"` // handle; "" for entries about the log itself
	Seq     int64             `json:"seq,omitempty"`     // the subject's sequence number, from 1
	Prev    string            `json:"prev,omitempty"`    // base64 leaf hash of the subject's previous entry
	Ref     string            `json:"ref,omitempty"`     // what the entry is about: a certify id, a deposit id…
	Attrs   map[string]string `json:"attrs,omitempty"`   // small facts without personal data
}

// Event is what a caller asks the log to record; the log gives it its
// subject sequence number, the previous hash and (if zero) the time.
type Event struct {
	Kind    string
	Subject string
	Ref     string
	Attrs   map[string]string
	Time    time.Time
}

// The forms of an entry's words, checked by hand (regular expressions
// took 1 % of a complete verification's CPU time); entry_test.go holds
// each as a regular expression and checks the two agree:
//
//	kind       ^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$
//	handle     ^h_[0-9a-f]{32}$
//	ref        ^[A-Za-z0-9_.:-]{1,128}$
//	attribute  ^[a-z][a-z0-9_]{0,31}$

// validKind reports whether s is dot-separated words, each a lower-case
// letter followed by lower-case letters, digits and '_'.
func validKind(s string) bool {
	start := true // at the start of a word
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z':
		case start:
			return false
		case '0' <= c && c <= '9', c == '_':
		case c == '.':
			start = true
			continue
		default:
			return false
		}
		start = false
	}
	return !start
}

// ValidHandle reports whether s has the form of a subject handle.
func ValidHandle(s string) bool {
	if len(s) != 34 || s[0] != 'h' || s[1] != '_' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// validRef reports whether s is 1 to 128 of A-Z a-z 0-9 _ . : -.
func validRef(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '_' || c == '.' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// validAttrKey reports whether s is a lower-case letter followed by at
// most 31 lower-case letters, digits and '_'.
func validAttrKey(s string) bool {
	if len(s) == 0 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// maxAttrs bounds an entry's attributes.
const (
	maxAttrs     = 16
	maxAttrValue = 256
)

// validate checks an event before it is appended.
func (e Event) validate() error {
	if len(e.Kind) > 64 || !validKind(e.Kind) {
		return fmt.Errorf("trail: bad kind %q", e.Kind)
	}
	if e.Subject != "" && !ValidHandle(e.Subject) {
		return errors.New("trail: bad subject handle")
	}
	if e.Ref != "" && !validRef(e.Ref) {
		return errors.New("trail: bad ref")
	}
	if len(e.Attrs) > maxAttrs {
		return fmt.Errorf("trail: more than %d attributes", maxAttrs)
	}
	for k, v := range e.Attrs {
		if !validAttrKey(k) {
			return fmt.Errorf("trail: bad attribute name %q", k)
		}
		if len(v) > maxAttrValue || !printable(v) {
			return fmt.Errorf("trail: bad value of attribute %q", k)
		}
	}
	return nil
}

// printable reports whether s holds no control character (C0, DEL, C1),
// no Unicode bidirectional or invisible formatting control that would
// make a terminal show text other than it is, and no invalid UTF-8.
func printable(s string) bool {
	for _, r := range s {
		switch {
		case r < 0x20, 0x7f <= r && r <= 0x9f, r == 0xfffd:
			return false
		case r == 0x061c, r == 0x200e, r == 0x200f, 0x202a <= r && r <= 0x202e, 0x2066 <= r && r <= 0x2069:
			return false // bidi marks, embeddings, overrides and isolates
		}
	}
	return true
}

// Marshal encodes the entry canonically: the fields in a fixed order, the
// attributes sorted by name (encoding/json sorts map keys), the time in
// UTC with milliseconds, no insignificant space and no trailing newline.
// Parse(Marshal(e)) == e, and Marshal(Parse(b)) == b for every b that
// Parse accepts, so the bytes, and hence the leaf hash, are unique.
func (e Entry) Marshal() ([]byte, error) {
	e.Time = e.Time.UTC().Truncate(time.Millisecond)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("trail: encode entry: %w", err)
	}
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if len(out) > MaxEntryBytes {
		return nil, fmt.Errorf("trail: entry of %d bytes, more than %d", len(out), MaxEntryBytes)
	}
	return out, nil
}

// ParseEntry decodes entry bytes as this package writes them, and refuses
// anything else: unknown fields, a bad kind, handle or hash, and any
// encoding other than the canonical one.
func ParseEntry(data []byte) (Entry, error) {
	if len(data) > MaxEntryBytes {
		return Entry{}, fmt.Errorf("trail: entry of %d bytes, more than %d", len(data), MaxEntryBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var e Entry
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("trail: decode entry: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Entry{}, errors.New("trail: data after the entry")
	}
	if e.V != EntryVersion {
		return Entry{}, fmt.Errorf("trail: entry version %d, want %d", e.V, EntryVersion)
	}
	ev := Event{Kind: e.Kind, Subject: e.Subject, Ref: e.Ref, Attrs: e.Attrs}
	if err := ev.validate(); err != nil {
		return Entry{}, err
	}
	switch {
	case e.Subject == "" && (e.Seq != 0 || e.Prev != ""):
		return Entry{}, errors.New("trail: a sequence number without a subject")
	case e.Subject != "" && e.Seq < 1:
		return Entry{}, errors.New("trail: a subject without a sequence number")
	case e.Seq == 1 && e.Prev != "":
		return Entry{}, errors.New("trail: a subject's first entry with a previous hash")
	case e.Seq > 1:
		if _, err := decodeHash(e.Prev); err != nil {
			return Entry{}, fmt.Errorf("trail: previous hash: %w", err)
		}
	}
	canon, err := e.Marshal()
	if err != nil {
		return Entry{}, err
	}
	if !bytes.Equal(canon, data) {
		return Entry{}, errors.New("trail: entry not in canonical form")
	}
	return e, nil
}

// LeafHash is the RFC 6962 leaf hash of entry bytes: SHA-256(0x00 ‖ data).
func LeafHash(data []byte) tlog.Hash { return tlog.RecordHash(data) }

// encodeHash and decodeHash write hashes as standard base64, as the
// checkpoint and the proofs do.
func encodeHash(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

func decodeHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize || encodeHash(tlog.Hash(b)) != s {
		return h, errors.New("not a base64 SHA-256 hash")
	}
	copy(h[:], b)
	return h, nil
}

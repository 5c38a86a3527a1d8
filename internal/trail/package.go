package trail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// PackageFormat names the evidence package format in its manifest.
const PackageFormat = "realname-trail-package/v1"

// Bounds of a package accepted by ParsePackage.
const (
	MaxPackageBytes   = 64 << 20 // the whole JSON document
	MaxPackageEntries = 100_000  // entries of one subject
	maxPackageKeys    = 16       // verifier keys
	maxKeyBytes       = 512      // one verifier key string
	maxProofHashes    = 64       // one proof: at most the tree's height
	maxManifestText   = 1024     // purpose and requested_by
)

// Package is an evidence package: everything needed to check, offline,
// one subject's entries in the log. See docs/trail.md for every field.
type Package struct {
	Manifest Manifest `json:"manifest"`
	// Keys are the log's note verifier keys ("name+hash+base64"). A key
	// taken from the package proves only that the package agrees with
	// itself; see VerifyOptions.TrustedKeys.
	Keys PackageKeys `json:"keys"`
	// Checkpoint is the signed note of the checkpoint C that every
	// inclusion proof is checked against.
	Checkpoint string `json:"checkpoint"`
	// Entries are the subject's entries in C, in sequence order.
	Entries PackageEntries `json:"entries"`
	// Consistency links an older checkpoint, the oldest stored one that
	// covers the subject's first entry, to C.
	Consistency *Consistency `json:"consistency"`
}

// Manifest describes a package. It holds no personal data: the person
// appears only as the subject handle.
type Manifest struct {
	Format      string    `json:"format"`  // PackageFormat
	Origin      string    `json:"origin"`  // the log's name
	Subject     string    `json:"subject"` // the subject handle
	Created     time.Time `json:"created"`
	Entries     int       `json:"entries"` // len(Package.Entries)
	Purpose     string    `json:"purpose,omitempty"`
	RequestedBy string    `json:"requested_by,omitempty"`
	// RequestRef is the ref of the trail.request entry that recorded the
	// request for this package. When set, the package must end with that
	// entry: since it was appended just before the package was built, no
	// entry of the subject can have been left out at the end.
	RequestRef string `json:"request_ref,omitempty"`
}

// PackageEntry is one entry with its inclusion proof in the checkpoint.
type PackageEntry struct {
	Index    int64       `json:"index"`
	Data     []byte      `json:"data"`      // the entry's bytes, base64 in JSON
	LeafHash string      `json:"leaf_hash"` // base64 RFC 6962 leaf hash of Data
	Proof    ProofHashes `json:"inclusion_proof"`
}

// Consistency is an older signed checkpoint and the proof that the
// package's checkpoint extends it.
type Consistency struct {
	Checkpoint string      `json:"checkpoint"`
	Proof      ProofHashes `json:"proof"`
}

// PackageEntries are a package's entries. Decoding refuses more than
// MaxPackageEntries as soon as it meets one too many.
type PackageEntries []PackageEntry

// ProofHashes are the base64 hashes of an inclusion or consistency
// proof. Decoding refuses more than maxProofHashes as soon as it meets
// one too many.
type ProofHashes []string

// PackageKeys are a package's verifier keys. Decoding refuses more than
// maxPackageKeys as soon as it meets one too many.
type PackageKeys []string

// UnmarshalJSON decodes the entries one by one, refusing unknown fields,
// and stops at entry MaxPackageEntries+1.
func (s *PackageEntries) UnmarshalJSON(data []byte) error {
	return decodeBounded((*[]PackageEntry)(s), data, MaxPackageEntries, "entries")
}

// UnmarshalJSON counts the hashes, stopping at hash maxProofHashes+1,
// before decoding them.
func (s *ProofHashes) UnmarshalJSON(data []byte) error {
	if tooManyItems(data, maxProofHashes) {
		return fmt.Errorf("trail: more than %d proof hashes", maxProofHashes)
	}
	return json.Unmarshal(data, (*[]string)(s))
}

// UnmarshalJSON counts the keys, stopping at key maxPackageKeys+1,
// before decoding them.
func (s *PackageKeys) UnmarshalJSON(data []byte) error {
	if tooManyItems(data, maxPackageKeys) {
		return fmt.Errorf("trail: more than %d keys", maxPackageKeys)
	}
	return json.Unmarshal(data, (*[]string)(s))
}

// tooManyItems reports whether the JSON value data, which encoding/json
// has already found well-formed before calling an UnmarshalJSON method,
// is an array of more than limit elements. It stops at element limit+1
// and allocates nothing; for anything but an array it reports false and
// leaves the error to json.Unmarshal.
func tooManyItems(data []byte, limit int) bool {
	data = bytes.TrimLeft(data, " \t\n\r")
	if len(data) == 0 || data[0] != '[' {
		return false
	}
	depth, items := 0, 0
	expect := true // at depth 1, the next value starts an element
	inString, escaped := false, false
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case ',':
			if depth == 1 {
				expect = true
			}
			continue
		case ']', '}':
			depth--
			continue
		}
		if depth == 1 && expect {
			if items++; items > limit {
				return true
			}
			expect = false
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
		}
	}
	return false
}

// maxListItemBytes bounds the JSON text of one element of a bounded list
// (an entry with its proof, a proof hash, a key). An entry as Marshal
// writes it, with MaxEntryBytes of data and maxProofHashes hashes, is
// under 10 KiB; the bound keeps the decoders of nested lists from each
// copying a huge element before its own checks refuse it.
const maxListItemBytes = 64 << 10

// decodeBounded decodes the JSON array data into *out element by element
// and fails at element limit+1 before decoding it, so that a document of
// MaxPackageBytes made of tiny elements ("", {}) never becomes millions
// of Go values (16 to 72 bytes each) before a count check refuses it.
// Like encoding/json, it decodes null as nil and [] as an empty list, and,
// like ParsePackage, it refuses unknown fields in the elements. It reads
// at most maxListItemBytes for any one element.
func decodeBounded[T any](out *[]T, data []byte, limit int, what string) error {
	r := &itemReader{data: data}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	r.end = dec.InputOffset() + maxListItemBytes
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil { // null
		*out = nil
		return nil
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("trail: %s: not a list", what)
	}
	list := []T{}
	for {
		r.end = dec.InputOffset() + maxListItemBytes
		if !dec.More() {
			break
		}
		if len(list) == limit {
			return fmt.Errorf("trail: more than %d %s", limit, what)
		}
		var zero T
		list = append(list, zero)
		if err := dec.Decode(&list[len(list)-1]); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return err
	}
	*out = list
	return nil
}

// itemReader reads data, but not beyond offset end: decodeBounded moves
// end before each element, so that its decoder never buffers more than
// maxListItemBytes of one element.
type itemReader struct {
	data     []byte
	off, end int64
}

func (r *itemReader) Read(p []byte) (int, error) {
	if r.off >= int64(len(r.data)) {
		return 0, io.EOF
	}
	if r.off >= r.end {
		return 0, fmt.Errorf("trail: a list element longer than %d bytes", maxListItemBytes)
	}
	n := copy(p, r.data[r.off:min(r.end, int64(len(r.data)))])
	r.off += int64(n)
	return n, nil
}

// PackageOptions says who asked for a package and why, and which keys
// verify the log.
type PackageOptions struct {
	// Keys are the note verifier keys of the log's current and past
	// signing keys, written into the package. At least one is required,
	// and the fresh checkpoint must verify with them.
	Keys []string
	// Purpose and RequestedBy are free text for the manifest (no personal
	// data: a case number, an authority's name).
	Purpose     string
	RequestedBy string
	// Created is the manifest's time (default now).
	Created time.Time
	// RequestRef is the ref of the trail.request entry appended under the
	// subject for this package (see Manifest.RequestRef); "" for none.
	RequestRef string
	// Witness, when set, cosigns the package's checkpoint (unless it
	// already carries every witness's cosignature), so that a verifier
	// holding the witnesses' keys knows the log showed the same history
	// to them. If a witness cannot be reached the package is still built,
	// on the checkpoint with what cosignatures it has, and the failure is
	// logged; VerifyOptions.WitnessKeys then refuses it.
	Witness *Witnessing
}

// BuildPackage writes the evidence package of one subject. It publishes
// a checkpoint first, so that the package's checkpoint C covers every
// entry the subject had, and proves each entry's inclusion in C; it adds
// the oldest stored checkpoint that covers the subject's first entry and
// the proof that C extends it. Entries appended after C are not in the
// package, and with opts.RequestRef neither are those appended after the
// request's own entry (which the package then ends with, even if C, made
// a moment later, already holds a later one). A subject without entries
// is ErrNotFound.
func BuildPackage(ctx context.Context, l *Log, r Reader, subject string, opts PackageOptions) (*Package, error) {
	if !ValidHandle(subject) {
		return nil, errors.New("trail: bad subject handle")
	}
	if opts.RequestRef != "" && !validRef(opts.RequestRef) {
		return nil, errors.New("trail: bad request ref")
	}
	if err := checkManifestText(opts.Purpose, opts.RequestedBy); err != nil {
		return nil, err
	}
	verifiers, err := parseKeys(opts.Keys)
	if err != nil {
		return nil, err
	}
	if len(verifiers) == 0 {
		return nil, errors.New("trail: a package needs the log's verifier key")
	}
	stored, _, err := l.PublishCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Witness != nil {
		cosigned, err := opts.Witness.CosignStored(ctx, l, stored)
		if err != nil {
			l.log.WarnContext(ctx, "trail: the package's checkpoint lacks a witness cosignature", "size", stored.Size, "err", err)
		}
		stored = cosigned
	}
	c, _, err := OpenCheckpoint(stored.Note, note.VerifierList(verifiers...))
	if err != nil {
		return nil, fmt.Errorf("trail: the log's checkpoint does not verify with the package keys: %w", err)
	}
	all, err := r.SubjectEntries(ctx, subject)
	if err != nil {
		return nil, fmt.Errorf("trail: subject entries: %w", err)
	}
	var idx []int64
	for _, x := range all {
		if x < c.Size { // appended after C: not covered
			idx = append(idx, x)
		}
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("trail: subject has no entries: %w", ErrNotFound)
	}
	if opts.RequestRef != "" {
		rc, err := r.LatestByRef(ctx, opts.RequestRef, []string{KindTrailRequest})
		if err != nil || rc.Index >= c.Size {
			return nil, fmt.Errorf("trail: the entry of request %s is not in the log's checkpoint (%v)", opts.RequestRef, err)
		}
		end := slices.Index(idx, rc.Index)
		if end < 0 {
			return nil, fmt.Errorf("trail: the entry of request %s is not about subject %s", opts.RequestRef, subject)
		}
		idx = idx[:end+1]
	}
	if len(idx) > MaxPackageEntries {
		return nil, fmt.Errorf("trail: subject has %d entries, more than a package holds (%d)", len(idx), MaxPackageEntries)
	}
	created := opts.Created
	if created.IsZero() {
		created = time.Now()
	}
	p := &Package{
		Manifest: Manifest{Format: PackageFormat, Origin: c.Origin, Subject: subject,
			Created: created.UTC().Truncate(time.Second), Entries: len(idx),
			Purpose: opts.Purpose, RequestedBy: opts.RequestedBy, RequestRef: opts.RequestRef},
		Keys:       append([]string{}, opts.Keys...),
		Checkpoint: string(stored.Note),
		Entries:    make([]PackageEntry, 0, len(idx)),
	}
	for _, x := range idx {
		es, err := r.TrailEntries(ctx, x, x+1)
		if err != nil {
			return nil, fmt.Errorf("trail: entry %d: %w", x, err)
		}
		proof, err := l.InclusionProof(ctx, x, c.Size)
		if err != nil {
			return nil, fmt.Errorf("trail: inclusion proof of entry %d: %w", x, err)
		}
		p.Entries = append(p.Entries, PackageEntry{Index: x, Data: es[0], LeafHash: encodeHash(LeafHash(es[0])),
			Proof: encodeHashes(proof)})
	}
	older, err := r.CheckpointAtLeast(ctx, idx[0]+1)
	if err != nil {
		return nil, fmt.Errorf("trail: the checkpoint covering entry %d: %w", idx[0], err)
	}
	if older.Size > c.Size { // published after C by another process
		older = stored
	}
	tp, err := l.ConsistencyProof(ctx, older.Size, c.Size)
	if err != nil {
		return nil, fmt.Errorf("trail: consistency proof %d → %d: %w", older.Size, c.Size, err)
	}
	p.Consistency = &Consistency{Checkpoint: string(older.Note), Proof: encodeHashes(tp)}
	return p, nil
}

func encodeHashes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = encodeHash(h)
	}
	return out
}

// parseKeys turns verifier key strings into verifiers.
func parseKeys(keys []string) ([]note.Verifier, error) {
	var out []note.Verifier
	for i, k := range keys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("trail: verifier key %d: %w", i+1, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func checkManifestText(ss ...string) error {
	for _, s := range ss {
		if len(s) > maxManifestText || !printable(s) {
			return fmt.Errorf("trail: manifest text longer than %d bytes or not printable", maxManifestText)
		}
	}
	return nil
}

// Marshal encodes the package as indented JSON ending in a newline.
func (p *Package) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("trail: encode package: %w", err)
	}
	return b.Bytes(), nil
}

// ParsePackage decodes a package from outside input. It refuses unknown
// fields, data after the document, another format, and anything beyond
// the bounds (MaxPackageBytes, MaxPackageEntries, proof and key counts,
// maxListItemBytes for one entry, hash or key). The bounded lists stop
// decoding at their bound, so that parsing allocates a small multiple of
// the input (about twice: encoding/json's buffer), however it is filled.
// It checks the structure only: VerifyPackage checks what the package
// claims.
func ParsePackage(data []byte) (*Package, error) {
	if len(data) > MaxPackageBytes {
		return nil, fmt.Errorf("trail: package of %d bytes, more than %d", len(data), MaxPackageBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Package
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("trail: decode package: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trail: data after the package")
	}
	if err := p.checkShape(); err != nil {
		return nil, err
	}
	return &p, nil
}

// checkShape checks the format and the bounds.
func (p *Package) checkShape() error {
	m := p.Manifest
	switch {
	case m.Format != PackageFormat:
		return fmt.Errorf("trail: package format %q, want %q", m.Format, PackageFormat)
	case len(p.Entries) > MaxPackageEntries:
		return fmt.Errorf("trail: %d entries, more than %d", len(p.Entries), MaxPackageEntries)
	case len(p.Keys) > maxPackageKeys:
		return fmt.Errorf("trail: %d keys, more than %d", len(p.Keys), maxPackageKeys)
	case len(p.Checkpoint) > MaxCheckpointBytes:
		return errors.New("trail: checkpoint too long")
	case p.Consistency == nil:
		return errors.New("trail: package without a consistency proof")
	case len(p.Consistency.Checkpoint) > MaxCheckpointBytes:
		return errors.New("trail: older checkpoint too long")
	case len(p.Consistency.Proof) > maxProofHashes:
		return errors.New("trail: consistency proof too long")
	}
	// The subject and the origin are printed before anything is verified:
	// they must be plain words, not text that moves a terminal's cursor.
	if !ValidHandle(m.Subject) {
		return errors.New("trail: bad subject handle in the manifest")
	}
	if !ValidOrigin(m.Origin) {
		return errors.New("trail: bad origin in the manifest")
	}
	if m.RequestRef != "" && !validRef(m.RequestRef) {
		return errors.New("trail: bad request ref in the manifest")
	}
	if err := checkManifestText(m.Purpose, m.RequestedBy); err != nil {
		return err
	}
	for i, k := range p.Keys {
		if len(k) > maxKeyBytes {
			return fmt.Errorf("trail: key %d too long", i+1)
		}
	}
	for _, e := range p.Entries {
		if len(e.Data) > MaxEntryBytes {
			return fmt.Errorf("trail: entry %d longer than %d bytes", e.Index, MaxEntryBytes)
		}
		if len(e.Proof) > maxProofHashes {
			return fmt.Errorf("trail: inclusion proof of entry %d too long", e.Index)
		}
	}
	return nil
}

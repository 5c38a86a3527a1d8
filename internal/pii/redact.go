package pii

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// redacted is what every secret-bearing type prints as.
const redacted = "[redacted]"

// The types in this package that hold secrets implement fmt.Formatter (so
// every verb, including %d and %x, prints the redacted form rather than
// reflecting over fields), fmt.GoStringer, fmt.Stringer and slog.LogValuer.
// Their secret state is additionally held behind an opaque handle (see
// opaque below), so that reflection-based printing, which bypasses these
// methods, cannot reach it either.

// String returns "[redacted]".
func (k DataKey) String() string { return redacted }

// GoString returns "[redacted]".
func (k DataKey) GoString() string { return redacted }

// Format writes "[redacted]" for every verb.
func (k DataKey) Format(s fmt.State, _ rune) { _, _ = io.WriteString(s, redacted) }

// LogValue returns "[redacted]" so that slog never sees key bytes.
func (k DataKey) LogValue() slog.Value { return slog.StringValue(redacted) }

// String describes the ring by primary id and key ids only.
func (r KeyRing) String() string {
	return fmt.Sprintf("pii.KeyRing{primary: %s, keys: %v}", r.primary, r.ids)
}

// GoString is the same as String.
func (r KeyRing) GoString() string { return r.String() }

// Format writes String() for every verb.
func (r KeyRing) Format(s fmt.State, _ rune) { _, _ = io.WriteString(s, r.String()) }

// LogValue logs the primary id and key ids, never key material.
func (r KeyRing) LogValue() slog.Value {
	return slog.GroupValue(slog.String("primary", r.primary), slog.Any("keys", r.ids))
}

// String returns "[redacted]".
func (b BlindIndex) String() string { return redacted }

// GoString returns "[redacted]".
func (b BlindIndex) GoString() string { return redacted }

// Format writes "[redacted]" for every verb.
func (b BlindIndex) Format(s fmt.State, _ rune) { _, _ = io.WriteString(s, redacted) }

// LogValue returns "[redacted]".
func (b BlindIndex) LogValue() slog.Value { return slog.StringValue(redacted) }

// String describes the key by id and creation time; the secret is omitted.
func (k Key) String() string {
	return fmt.Sprintf("pii.Key{ID: %s, Created: %s, Secret: %s}",
		k.ID, k.Created.Format(time.RFC3339), redacted)
}

// GoString is the same as String.
func (k Key) GoString() string { return k.String() }

// Format writes String() for every verb.
func (k Key) Format(s fmt.State, _ rune) { _, _ = io.WriteString(s, k.String()) }

// LogValue logs the id and creation time, never the secret.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID), slog.Time("created", k.Created),
		slog.String("secret", redacted))
}

// MarshalJSON encodes the id and creation time with the secret redacted, so
// that a Key accidentally passed to encoding/json does not leak. The key ring
// file format is written by this package through a separate representation.
func (k Key) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID      string    `json:"id"`
		Created time.Time `json:"created"`
		Secret  string    `json:"secret"`
	}{k.ID, k.Created, redacted})
}

// opaque hides secret state from reflection. Reflection-based printers
// (fmt with a bad verb on a caller's unexported field, go-spew, testify's
// diffs, debuggers' pretty printers) follow pointers, maps and interfaces
// and would print key bytes or AES key schedules, and they skip Format and
// String methods on unexported fields. A func value prints only as an
// address, and the variables it captures cannot be reached via reflect.
type opaque[T any] func() *T

// hide returns an opaque handle to v.
func hide[T any](v *T) opaque[T] { return func() *T { return v } }

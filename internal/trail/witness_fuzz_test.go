package trail

import (
	"bytes"
	"crypto/ed25519"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// FuzzWitnessResponse feeds parseCosignatures and parseConflictSize, the
// parsers of what a witness sends back, arbitrary bodies: they must not
// panic, and whatever parseCosignatures accepts must be cosignature lines
// that, appended to the checkpoint, verify with the witness's key.
func FuzzWitnessResponse(f *testing.F) {
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	cs, err := NewCosigner("witness.test/w1", ed25519.NewKeyFromSeed(seed), func() time.Time { return time.Unix(1700000000, 0) })
	if err != nil {
		f.Fatal(err)
	}
	v, err := NewCosignatureVerifier(cs.VerifierKey())
	if err != nil {
		f.Fatal(err)
	}
	text := Checkpoint{Origin: "realname.test/trail", Size: 3}.Text()
	signed, err := note.Sign(&note.Note{Text: string(text)}, cs)
	if err != nil {
		f.Fatal(err)
	}
	good := signed[len(text)+1:]
	f.Add(good, "text/plain")
	f.Add(append(append([]byte(nil), good...), "— other.test/w AAAAAQE=\n"...), "")
	f.Add([]byte("— witness.test/w1 AAAA\n"), "")
	f.Add([]byte("17\n"), "text/x.tlog.size")
	f.Add([]byte("017\n"), "text/x.tlog.size; charset=utf-8")
	f.Add([]byte("\n\n— \n"), "")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		if n := parseConflictSize(contentType, body); n < -1 {
			t.Fatalf("conflict size %d", n)
		}
		lines, err := parseCosignatures(text, body, v)
		if err != nil {
			return
		}
		msg := append(append([]byte(nil), signed...), lines...)
		n, err := note.Open(msg, note.VerifierList(v))
		if err != nil {
			t.Fatalf("accepted lines do not verify: %v", err)
		}
		if n.Text != string(text) || len(n.Sigs) == 0 {
			t.Fatalf("accepted lines changed the note")
		}
		for l := range bytes.Lines(lines) {
			if !bytes.HasPrefix(l, []byte("— witness.test/w1 ")) {
				t.Fatalf("accepted a line by another key: %q", l)
			}
		}
	})
}

package witnesstest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/trail"
)

func TestParseRequest(t *testing.T) {
	h := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		body  string
		ok    bool
		old   int64
		proof int
	}{
		{"old 0\n\nx\n", true, 0, 0},
		{"old 12\n" + h + "\n" + h + "\n\nx\n", true, 12, 2},
		{"old 012\n\nx\n", false, 0, 0},
		{"old -1\n\nx\n", false, 0, 0},
		{"old 1\n\n", false, 0, 0},
		{"old 1\n" + h + "\n", false, 0, 0},
		{"old 1\nnot base64\n\nx\n", false, 0, 0},
		{"old 1\n" + base64.StdEncoding.EncodeToString(make([]byte, 31)) + "\n\nx\n", false, 0, 0},
		{"new 1\n\nx\n", false, 0, 0},
		{"old 1", false, 0, 0},
	}
	for _, tt := range tests {
		r, err := ParseRequest([]byte(tt.body))
		if (err == nil) != tt.ok || tt.ok && (r.OldSize != tt.old || len(r.Proof) != tt.proof) {
			t.Errorf("ParseRequest(%q) = %+v, %v", tt.body, r, err)
		}
	}
	var b bytes.Buffer
	b.WriteString("old 5\n")
	for range 64 {
		b.WriteString(h + "\n")
	}
	b.WriteString("\nx\n")
	if _, err := ParseRequest(b.Bytes()); err == nil {
		t.Error("64 proof lines accepted")
	}
}

// FuzzAddCheckpointRequest: ParseRequest and the whole add-checkpoint
// handler take any body without panicking; what parses re-encodes to the
// same bytes; and nothing the fuzzer forges without the log's key is
// cosigned.
func FuzzAddCheckpointRequest(f *testing.F) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "realname.test/trail")
	if err != nil {
		f.Fatal(err)
	}
	ls, _ := note.NewSigner(skey)
	lv, _ := note.NewVerifier(vkey)
	cs, err := trail.GenerateCosigner(rand.Reader, "witness.test/w1")
	if err != nil {
		f.Fatal(err)
	}
	w := New(cs, lv)
	signed, err := trail.SignCheckpoint(trail.Checkpoint{Origin: "realname.test/trail", Size: 2, Hash: tlog.Hash{1}}, ls)
	if err != nil {
		f.Fatal(err)
	}
	text := signed[:bytes.LastIndex(signed, []byte("\n\n"))+1]
	h := base64.StdEncoding.EncodeToString(make([]byte, 32))
	f.Add([]byte("old 0\n\n" + string(signed)))
	f.Add([]byte("old 2\n\n" + string(signed)))
	f.Add([]byte("old 1\n" + h + "\n\n" + string(signed)))
	f.Add([]byte("old 0\n\nother.test/log\n1\n" + h + "\n\n— other.test/log AAAAAQE=\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if r, err := ParseRequest(body); err == nil {
			var b bytes.Buffer
			fmt.Fprintf(&b, "old %d\n", r.OldSize)
			for _, p := range r.Proof {
				b.WriteString(base64.StdEncoding.EncodeToString(p[:]) + "\n")
			}
			b.WriteString("\n")
			b.Write(r.Checkpoint)
			if !bytes.Equal(b.Bytes(), body) {
				t.Fatalf("re-encoded %q as %q", body, b.Bytes())
			}
		}
		status, _, _ := w.addCheckpoint(body)
		if status == http.StatusOK {
			r, _ := ParseRequest(body)
			i := bytes.LastIndex(r.Checkpoint, []byte("\n\n"))
			if i < 0 || !bytes.Equal(r.Checkpoint[:i+1], text) {
				t.Fatalf("cosigned a checkpoint the log did not sign: %q", body)
			}
		}
	})
}

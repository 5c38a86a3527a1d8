package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/realname/realname/internal/trail"
)

func trailServer(t *testing.T) (*Server, *trail.Log, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "realname.test/trail")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	l, err := trail.New(trail.Config{Store: trail.NewMemoryStore(), Origin: "realname.test/trail", Signer: signer, VerifierKey: vkey})
	if err != nil {
		t.Fatal(err)
	}
	return testServerWith(t, func(o *Options) { o.Trail = l }), l, verifier
}

// TestTrailRoutes: the key, the newest checkpoint, entries and proofs, as
// CONTRACT.md lists them, check against each other.
func TestTrailRoutes(t *testing.T) {
	s, l, verifier := trailServer(t)
	ctx := context.Background()
	w := call(s, "GET", "/trail/checkpoint", "")
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "NO_CHECKPOINT") {
		t.Fatalf("checkpoint before the first: %d %s", w.Code, w.Body)
	}
	for i := range 11 {
		if _, err := l.Append(ctx, trail.Event{Kind: trail.KindVerificationStarted, Subject: "h_" + strings.Repeat("ab", 16), Ref: "vf" + strings.Repeat("0", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	first, _, err := l.PublishCheckpoint(ctx)
	if err != nil || first.Size != 11 {
		t.Fatal(first.Size, err)
	}
	if _, err := l.Append(ctx, trail.Event{Kind: trail.KindErasure}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.PublishCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}

	w = call(s, "GET", "/trail/key", "")
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != l.VerifierKey() || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("key: %d %q", w.Code, w.Body)
	}
	if w = call(s, "GET", "/trail/keys", ""); w.Code != 200 || w.Body.String() != l.VerifierKey()+"\n" {
		t.Fatalf("keys: %d %q", w.Code, w.Body)
	}
	w = call(s, "GET", "/trail/checkpoint", "")
	if w.Code != 200 {
		t.Fatalf("checkpoint: %d %s", w.Code, w.Body)
	}
	cp, _, err := trail.OpenCheckpoint(w.Body.Bytes(), note.VerifierList(verifier))
	if err != nil || cp.Size != 12 {
		t.Fatalf("checkpoint %+v: %v", cp, err)
	}
	for i := range cp.Size {
		w = call(s, "GET", "/trail/entry/"+itoa(i), "")
		if w.Code != 200 || w.Header().Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("entry %d: %d %s", i, w.Code, w.Body)
		}
		leaf := trail.LeafHash(w.Body.Bytes())
		w = call(s, "GET", "/trail/proof/inclusion?index="+itoa(i)+"&size="+itoa(cp.Size), "")
		var p struct {
			Index    int64       `json:"index"`
			TreeSize int64       `json:"tree_size"`
			Proof    []tlog.Hash `json:"proof"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != 200 || p.Index != i || p.TreeSize != cp.Size {
			t.Fatalf("inclusion %d: %d %s", i, w.Code, w.Body)
		}
		if err := tlog.CheckRecord(p.Proof, cp.Size, cp.Hash, i, leaf); err != nil {
			t.Fatalf("inclusion %d: %v", i, err)
		}
	}
	old, _, _ := trail.OpenCheckpoint(first.Note, note.VerifierList(verifier))
	w = call(s, "GET", "/trail/proof/consistency?old=11&new=12", "")
	var c struct {
		OldSize int64       `json:"old_size"`
		NewSize int64       `json:"new_size"`
		Proof   []tlog.Hash `json:"proof"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil || c.OldSize != 11 || c.NewSize != 12 {
		t.Fatalf("consistency: %d %s", w.Code, w.Body)
	}
	if err := tlog.CheckTree(c.Proof, 12, cp.Hash, 11, old.Hash); err != nil {
		t.Fatal(err)
	}
	if w = call(s, "GET", "/trail/proof/consistency?old=12&new=12", ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"proof":[]`) {
		t.Fatalf("consistency of a size with itself: %d %s", w.Code, w.Body)
	}

	for _, bad := range []struct {
		path string
		code int
	}{
		{"/trail/entry/12", 404}, {"/trail/entry/-1", 400}, {"/trail/entry/01", 400}, {"/trail/entry/x", 400},
		{"/trail/entry/99999999999999999999", 400},
		{"/trail/proof/inclusion?index=3", 400}, {"/trail/proof/inclusion?index=3&size=3", 404},
		{"/trail/proof/inclusion?index=3&size=13", 404}, {"/trail/proof/inclusion?index=+3&size=5", 400},
		{"/trail/proof/consistency?old=0&new=5", 404}, {"/trail/proof/consistency?old=6&new=5", 404},
		{"/trail/proof/consistency?old=1&new=13", 404}, {"/trail/proof/consistency?new=5", 400},
	} {
		if w := call(s, "GET", bad.path, ""); w.Code != bad.code || !strings.Contains(w.Body.String(), `"success":false`) {
			t.Errorf("%s: %d %s, want %d", bad.path, w.Code, w.Body, bad.code)
		}
	}
}

// TestNoTrailNoRoutes: a server without a trail answers 404 there.
func TestNoTrailNoRoutes(t *testing.T) {
	s := testServerWith(t, nil)
	for _, p := range []string{"/trail/key", "/trail/checkpoint", "/trail/entry/0"} {
		if w := call(s, "GET", p, ""); w.Code != 404 {
			t.Errorf("%s: %d", p, w.Code)
		}
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

package pii

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// secretForms returns the encodings under which a secret could leak.
func secretForms(secret []byte) []string {
	return []string{
		base64.StdEncoding.EncodeToString(secret),
		base64.RawStdEncoding.EncodeToString(secret),
		base64.URLEncoding.EncodeToString(secret),
		hex.EncodeToString(secret),
		fmt.Sprint(secret),            // [12 34 ...]
		fmt.Sprintf("%v", secret[:8]), // partial decimal
		strings.Trim(fmt.Sprint(secret[:8]), "[]"),
		string(secret),
	}
}

func assertNoLeak(t *testing.T, where, out string, secrets ...[]byte) {
	t.Helper()
	for _, s := range secrets {
		for _, form := range secretForms(s) {
			if strings.Contains(out, form) {
				t.Fatalf("%s leaks a secret (as %q):\n%s", where, form, out)
			}
		}
	}
}

func TestNoSecretsInFmt(t *testing.T) {
	dekRaw := testSecret("dek|redact")
	dek, _ := dataKeyFromBytes(dekRaw)
	key := testKey("k1")
	ring := mustRing(t, "k1", "k1")
	idx := mustIndex(t, "redact")
	idxRaw := testSecret("index|redact")

	type holder struct { // unexported fields: fmt cannot call their methods
		dek  DataKey
		ring KeyRing
		idx  BlindIndex
	}
	values := map[string]any{
		"DataKey":     dek,
		"*DataKey":    &dek,
		"Key":         key,
		"*Key":        &key,
		"[]Key":       []Key{key},
		"*KeyRing":    ring,
		"KeyRing":     *ring,
		"*BlindIndex": idx,
		"BlindIndex":  *idx,
		"Material":    Material{Ring: ring, Index: idx},
		"unexported":  holder{dek, *ring, *idx},
		"*unexported": &holder{dek, *ring, *idx},
		"map":         map[string]any{"k": dek},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"}
	for name, v := range values {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			assertNoLeak(t, name+" "+verb, out, dekRaw, key.Secret, idxRaw)
		}
	}
	if dek.String() != "[redacted]" || fmt.Sprint(dek) != "[redacted]" {
		t.Errorf("DataKey prints as %q", fmt.Sprint(dek))
	}
	if got := fmt.Sprint(ring); !strings.Contains(got, "k1") {
		t.Errorf("KeyRing should describe its ids: %q", got)
	}
}

func TestNoSecretsInSlog(t *testing.T) {
	dekRaw := testSecret("dek|slog")
	dek, _ := dataKeyFromBytes(dekRaw)
	key := testKey("k9")
	ring := mustRing(t, "k9", "k9")
	idxRaw := testSecret("index|slog")
	idx, _ := NewBlindIndex(idxRaw)

	for _, h := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
		{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
	} {
		t.Run(h.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(h.new(&buf))
			log.Info("keys",
				"dek", dek, "dekp", &dek,
				"key", key, "keys", []Key{key},
				"ring", ring, "idx", idx,
				"material", Material{Ring: ring, Index: idx},
				slog.Group("g", "dek", dek))
			log.With("dek", dek).Info("with")
			out := buf.String()
			assertNoLeak(t, "slog "+h.name, out, dekRaw, key.Secret, idxRaw)
			if !strings.Contains(out, "[redacted]") || !strings.Contains(out, "k9") {
				t.Fatalf("unexpected log output:\n%s", out)
			}
		})
	}
}

func TestNoSecretsInJSON(t *testing.T) {
	dekRaw := testSecret("dek|json")
	dek, _ := dataKeyFromBytes(dekRaw)
	key := testKey("k1")
	ring := mustRing(t, "k1", "k1")
	idxRaw := testSecret("index|json")
	idx, _ := NewBlindIndex(idxRaw)
	out, err := json.Marshal(map[string]any{"dek": dek, "key": key, "ring": ring, "idx": idx})
	if err != nil {
		t.Fatal(err)
	}
	assertNoLeak(t, "json", string(out), dekRaw, key.Secret, idxRaw)
	var k map[string]any
	b, _ := json.Marshal(key)
	if err := json.Unmarshal(b, &k); err != nil || k["id"] != "k1" || k["secret"] != "[redacted]" {
		t.Fatalf("Key JSON = %s", b)
	}
}

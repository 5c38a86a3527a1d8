package pii

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func fileMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func skipOnWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
}

func TestDefaultKeyFiles(t *testing.T) {
	f := DefaultKeyFiles("/var/lib/realname")
	if f.RingPath != filepath.FromSlash("/var/lib/realname/keys/keyring.json") ||
		f.IndexPath != filepath.FromSlash("/var/lib/realname/keys/index.key") {
		t.Fatalf("DefaultKeyFiles = %+v", f)
	}
}

func TestGenerateLoadRoundTrip(t *testing.T) {
	skipOnWindows(t)
	f := DefaultKeyFiles(t.TempDir())
	m, err := Generate(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{f.RingPath, f.IndexPath} {
		if got := fileMode(t, p); got != 0o600 {
			t.Errorf("%s mode = %#o, want 0600", p, got)
		}
	}
	if got := fileMode(t, filepath.Dir(f.RingPath)); got != 0o700 {
		t.Errorf("keys dir mode = %#o, want 0700", got)
	}
	if entries, _ := os.ReadDir(filepath.Dir(f.RingPath)); len(entries) != 2 {
		t.Errorf("keys dir has %d entries, want 2 (temp files left behind?)", len(entries))
	}

	var rf ringFile
	data, _ := os.ReadFile(f.RingPath)
	if err := json.Unmarshal(data, &rf); err != nil || len(rf.Keys) != 1 || rf.Primary != rf.Keys[0].ID || rf.Keys[0].Created.IsZero() {
		t.Fatalf("ring file content unexpected (err %v)", err)
	}
	if len(rf.Keys[0].ID) != 8 {
		t.Errorf("generated id %q is not 8 hex digits", rf.Keys[0].ID)
	}

	dek := mustDataKey(t)
	w, err := m.Ring.WrapKey(dek, "person/1")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := loaded.Ring.UnwrapKey(w, "person/1")
	if err != nil || !got.Equal(dek) {
		t.Fatalf("unwrap with loaded ring: %v", err)
	}
	if !bytes.Equal(loaded.Index.Sum("idnum", "X"), m.Index.Sum("idnum", "X")) {
		t.Fatal("loaded index key differs from generated")
	}
}

func TestGenerateRefusesToOverwrite(t *testing.T) {
	for _, existing := range []string{"ring", "index", "both"} {
		t.Run(existing, func(t *testing.T) {
			f := DefaultKeyFiles(t.TempDir())
			if err := os.MkdirAll(filepath.Dir(f.RingPath), 0o700); err != nil {
				t.Fatal(err)
			}
			want := map[string][]byte{}
			if existing != "index" {
				want[f.RingPath] = []byte(`{"precious":"ring"}`)
			}
			if existing != "ring" {
				want[f.IndexPath] = []byte("precious index\n")
			}
			for p, c := range want {
				if err := os.WriteFile(p, c, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Generate(f)
			wantErr(t, err, ErrKeysExist)
			for p, c := range want {
				if got, _ := os.ReadFile(p); !bytes.Equal(got, c) {
					t.Errorf("%s was modified", p)
				}
			}
			for _, p := range []string{f.RingPath, f.IndexPath} {
				if _, ok := want[p]; !ok {
					if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("%s was created although Generate failed", p)
					}
				}
			}
		})
	}
}

func TestGenerateTwice(t *testing.T) {
	f := DefaultKeyFiles(t.TempDir())
	if _, err := Generate(f); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(f.RingPath)
	_, err := Generate(f)
	wantErr(t, err, ErrKeysExist)
	if after, _ := os.ReadFile(f.RingPath); !bytes.Equal(before, after) {
		t.Fatal("second Generate changed the ring file")
	}
}

func TestWriteNewFileNeverReplaces(t *testing.T) {
	// Simulates the race Generate's pre-check cannot close: the target
	// appears after the check. The hard-link publish must still refuse.
	p := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(p, []byte("orig"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantErr(t, WriteNewKeyFile(p, []byte("new")), ErrKeysExist)
	if got, _ := os.ReadFile(p); string(got) != "orig" {
		t.Fatal("file replaced")
	}
	if entries, _ := os.ReadDir(filepath.Dir(p)); len(entries) != 1 {
		t.Fatalf("temp file left behind: %d entries", len(entries))
	}
}

func TestLoadMissing(t *testing.T) {
	dir := t.TempDir()
	f := DefaultKeyFiles(dir)
	_, err := Load(f)
	wantErr(t, err, ErrNoKeys)
	if _, err := os.Stat(filepath.Dir(f.RingPath)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("Load created the keys directory")
	}

	if _, err := Generate(f); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{f.RingPath, f.IndexPath} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			saved, _ := os.ReadFile(p)
			os.Remove(p)
			defer os.WriteFile(p, saved, 0o600)
			_, err := Load(f)
			wantErr(t, err, ErrNoKeys)
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	_, err = Load(KeyFiles{})
	wantErr(t, err, ErrNoKeys)
}

func TestLoadRefusesLoosePermissions(t *testing.T) {
	skipOnWindows(t)
	f := DefaultKeyFiles(t.TempDir())
	if _, err := Generate(f); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{f.RingPath, f.IndexPath} {
		for _, mode := range []fs.FileMode{0o644, 0o640, 0o604, 0o660, 0o601} {
			t.Run(fmt.Sprintf("%s/%#o", filepath.Base(p), mode), func(t *testing.T) {
				if err := os.Chmod(p, mode); err != nil {
					t.Fatal(err)
				}
				defer os.Chmod(p, 0o600)
				_, err := Load(f)
				wantErr(t, err, ErrInsecureKeyFile)
				if !strings.Contains(err.Error(), "chmod 600") || !strings.Contains(err.Error(), p) {
					t.Errorf("error not actionable: %v", err)
				}
			})
		}
	}
	if err := os.Chmod(f.RingPath, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(f); err != nil {
		t.Fatalf("0400 should be accepted: %v", err)
	}
}

func TestLoadRefusesDirectory(t *testing.T) {
	f := DefaultKeyFiles(t.TempDir())
	if err := os.MkdirAll(f.RingPath, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Load(f)
	wantErr(t, err, ErrInsecureKeyFile)
}

func TestLoadInvalidContentDoesNotLeak(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString(testSecret("leak"))
	shortSecret := base64.StdEncoding.EncodeToString(testSecret("leak")[:31])
	tests := map[string]string{
		"not json":        "secret " + secret,
		"truncated":       `{"primary":"k1","keys":[{"id":"k1","secret":"` + secret,
		"short secret":    `{"primary":"k1","keys":[{"id":"k1","secret":"` + shortSecret + `"}]}`,
		"bad base64":      `{"primary":"k1","keys":[{"id":"k1","secret":"` + secret + `!"}]}`,
		"secret in id":    `{"primary":"k1","keys":[{"id":"` + secret + `","secret":"` + secret + `"}]}`,
		"unknown field":   `{"primary":"k1","keys":[{"id":"k1","secret":"` + secret + `","extra":1}]}`,
		"number secret":   `{"primary":"k1","keys":[{"id":"k1","secret":12345678901234567890}]}`,
		"bad time":        `{"primary":"k1","keys":[{"id":"k1","secret":"` + secret + `","created":"` + secret + `"}]}`,
		"trailing data":   `{"primary":"k1","keys":[{"id":"k1","secret":"` + secret + `"}]} ` + secret,
		"primary missing": `{"primary":"` + secret + `","keys":[{"id":"k1","secret":"` + secret + `"}]}`,
		"no keys":         `{"primary":"k1","keys":[]}`,
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			f := DefaultKeyFiles(t.TempDir())
			if _, err := Generate(f); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f.RingPath, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(f)
			if err == nil {
				t.Fatal("invalid ring accepted")
			}
			for _, s := range []string{secret, shortSecret, secret[:16], "12345678901234567890"} {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error leaks secret material: %v", err)
				}
			}
		})
	}
}

func TestLoadInvalidIndexKey(t *testing.T) {
	for name, content := range map[string]string{
		"empty":      "",
		"not base64": "!!!!",
		"short":      base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"zero":       base64.StdEncoding.EncodeToString(make([]byte, 32)),
	} {
		t.Run(name, func(t *testing.T) {
			f := DefaultKeyFiles(t.TempDir())
			if _, err := Generate(f); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f.IndexPath, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(f); err == nil || !strings.Contains(err.Error(), "index key") {
				t.Fatalf("error = %v", err)
			}
		})
	}
}

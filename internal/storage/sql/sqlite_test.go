package sqlstore_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/storage/conformance"
)

func TestSQLiteConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) realname.Store {
		return openMigrated(t, sqliteURL(t))
	})
}

func TestSQLiteMemoryConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) realname.Store {
		return openMigrated(t, ":memory:")
	})
}

func TestSQLiteURLForms(t *testing.T) {
	dir := t.TempDir()
	for name, url := range map[string]string{
		"path":         filepath.Join(dir, "plain.db"),
		"sqlite:":      "sqlite:" + filepath.Join(dir, "prefixed.db"),
		"sqlite://":    "sqlite://" + filepath.Join(dir, "slashes.db"),
		"file:":        "file:" + filepath.Join(dir, "uri.db") + "?cache=private",
		"file:encoded": "file:" + filepath.Join(dir, "with%20space.db"),
		"memory":       ":memory:",
	} {
		t.Run(name, func(t *testing.T) {
			s := openMigrated(t, url)
			if s.Dialect() != "sqlite" {
				t.Errorf("Dialect = %q", s.Dialect())
			}
		})
	}
	for _, f := range []string{"plain.db", "prefixed.db", "slashes.db", "uri.db", "with space.db"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("database file %s: %v", f, err)
		}
	}
}

func TestSQLiteFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "realname.db")
	s := openMigrated(t, path)
	// Write something so the WAL exists.
	if err := s.CreateAPIKey(t.Context(), realname.APIKey{ID: "k", Name: "k", Hash: []byte{1}}); err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{{dir, 0o700}, {path, 0o600}, {path + "-wal", 0o600}, {path + "-shm", 0o600}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Errorf("stat: %v", err)
			continue
		}
		if got := fi.Mode().Perm(); got != c.mode {
			t.Errorf("%s: mode %v, want %v", c.path, got, c.mode)
		}
	}
}

func TestSQLiteMigrate(t *testing.T) {
	testMigrate(t, sqliteURL(t), "sqlite")
}

package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/realname/realname/internal/config"
	"github.com/realname/realname/internal/pii"
	sqlstore "github.com/realname/realname/internal/storage/sql"
)

// loadKeys finds the key material: the configured files, else the env, else
// the data directory. It generates keys only for the embedded default with a
// database that holds no person yet; anywhere else missing keys stop the
// start, because fresh keys would make stored data unreadable.
func loadKeys(ctx context.Context, cfg config.Config, getenv func(string) string, store *sqlstore.Store, log *slog.Logger) (pii.Material, error) {
	if cfg.Keys.RingFile != "" {
		m, err := pii.Load(keyFiles(cfg))
		if err != nil {
			return m, fmt.Errorf("load keys from files: %w", err)
		}
		return m, nil
	}
	if getenv("REALNAME_KEYRING") != "" || getenv("REALNAME_INDEX_KEY") != "" {
		m, err := pii.LoadEnv(getenv)
		if err != nil {
			return m, fmt.Errorf("load keys from REALNAME_KEYRING/REALNAME_INDEX_KEY: %w", err)
		}
		return m, nil
	}
	files := keyFiles(cfg)
	m, err := pii.Load(files)
	if err == nil {
		return m, nil
	}
	if !errors.Is(err, pii.ErrNoKeys) {
		return m, fmt.Errorf("load keys from %s: %w", cfg.DataDir, err)
	}
	if !cfg.Embedded() {
		return m, fmt.Errorf("no keys found (set REALNAME_KEYRING_FILE and REALNAME_INDEX_KEY_FILE, or REALNAME_KEYRING and REALNAME_INDEX_KEY): %w", err)
	}
	persons, perr := store.Persons(ctx, "", 1)
	if perr != nil {
		return m, fmt.Errorf("check the database before generating keys: %w", perr)
	}
	if len(persons) > 0 {
		return m, fmt.Errorf("the database holds encrypted identities but the keys in %s are missing; restore them — refusing to generate new keys, which would make that data unreadable: %w", cfg.DataDir, err)
	}
	m, err = pii.Generate(files)
	if err != nil {
		return m, fmt.Errorf("generate keys: %w", err)
	}
	log.Warn("generated new encryption keys for the embedded default; for production supply keys from files or env (see docs/operations.md) and back them up",
		"keyring", files.RingPath, "index_key", files.IndexPath)
	return m, nil
}

// devAPIKey returns the sandbox's development API key, kept in the data
// directory (mode 0600) so it survives restarts. Only used in sandbox mode.
func devAPIKey(ctx context.Context, dataDir string, store *sqlstore.Store, newKey func() (string, []byte, error)) (string, error) {
	path := dataDir + "/dev-api-key"
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		return string(b), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read dev API key: %w", err)
	}
	secret, hash, err := newKey()
	if err != nil {
		return "", err
	}
	if _, err := createAPIKey(ctx, store, "development (sandbox)", hash); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(secret), 0o600); err != nil {
		return "", fmt.Errorf("write dev API key: %w", err)
	}
	return secret, nil
}

// keyFiles is where the key files are: configured, or in the data directory.
func keyFiles(cfg config.Config) pii.KeyFiles {
	if cfg.Keys.RingFile != "" {
		return pii.KeyFiles{RingPath: cfg.Keys.RingFile, IndexPath: cfg.Keys.IndexFile}
	}
	return pii.DefaultKeyFiles(cfg.DataDir)
}

// ringReloader re-reads the key ring from its files after a rotation by
// another process; nil when the keys come from env.
func ringReloader(cfg config.Config, getenv func(string) string) func() (*pii.KeyRing, error) {
	if cfg.Keys.RingFile == "" && (getenv("REALNAME_KEYRING") != "" || getenv("REALNAME_INDEX_KEY") != "") {
		return nil
	}
	files := keyFiles(cfg)
	return func() (*pii.KeyRing, error) {
		m, err := pii.Load(files)
		return m.Ring, err
	}
}

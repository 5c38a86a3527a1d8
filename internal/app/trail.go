package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/realname/realname/internal/config"
	sqlstore "github.com/realname/realname/internal/storage/sql"
	"github.com/realname/realname/internal/trail"
)

// trailKeyFile is where the trail's signing key lives.
func trailKeyFile(cfg config.Config) string {
	if cfg.Trail.KeyFile != "" {
		return cfg.Trail.KeyFile
	}
	return filepath.Join(cfg.DataDir, "keys", "trail.key")
}

// openTrail builds the trail on the store with its signing key. The key
// names the log: without REALNAME_TRAIL_ORIGIN the origin is the key's
// name, so a restart on another address continues the same log. A missing
// key is generated only while the trail has no checkpoint (a new key loses
// nothing then); later it stops the start, since checkpoints signed by a
// lost key could not be continued under the same name unnoticed.
func openTrail(ctx context.Context, cfg config.Config, store *sqlstore.Store, listen string, log *slog.Logger) (*trail.Log, error) {
	path := trailKeyFile(cfg)
	skey, err := readTrailKey(path)
	if errors.Is(err, os.ErrNotExist) {
		if _, cerr := store.LatestCheckpoint(ctx); !errors.Is(cerr, trail.ErrNotFound) {
			if cerr == nil {
				cerr = errors.New("the trail has signed checkpoints")
			}
			return nil, fmt.Errorf("trail key %s is missing and %w; restore it (refusing to start the log under a new key)", path, cerr)
		}
		if skey, err = generateTrailKey(path, cfg.TrailOrigin(listen)); err != nil {
			return nil, err
		}
		log.Warn("generated a new trail signing key; back it up with the other keys", "path", path)
	} else if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("trail key %s: %w", path, err)
	}
	if cfg.Trail.Origin != "" && cfg.Trail.Origin != signer.Name() {
		return nil, fmt.Errorf("trail key %s is named %q, but REALNAME_TRAIL_ORIGIN is %q", path, signer.Name(), cfg.Trail.Origin)
	}
	vkey, err := trail.VerifierKeyOf(skey)
	if err != nil {
		return nil, err
	}
	return trail.New(trail.Config{Store: store, Origin: signer.Name(), Signer: signer, VerifierKey: vkey,
		Logger: log.With("component", "trail")})
}

// readTrailKey reads a signed-note private key from a file that group and
// others cannot read.
func readTrailKey(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("trail key %s: must be a regular file that only its owner can read (mode 0600 or 0400), not %v", path, fi.Mode())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("trail key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// generateTrailKey writes a new Ed25519 signing key named origin, mode
// 0600, never replacing an existing file.
func generateTrailKey(path, origin string) (string, error) {
	skey, _, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return "", fmt.Errorf("generate trail key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("trail key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("write trail key: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("write trail key: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write trail key: %w", err)
	}
	return skey, nil
}

// runTrail appends the events other transactions queued and signs a
// checkpoint every interval while there are new entries, until ctx ends.
func runTrail(ctx context.Context, l *trail.Log, interval time.Duration, log *slog.Logger) {
	drain := time.NewTicker(100 * time.Millisecond)
	defer drain.Stop()
	sign := time.NewTicker(interval)
	defer sign.Stop()
	publish := func() {
		if _, fresh, err := l.PublishCheckpoint(ctx); err != nil && ctx.Err() == nil {
			log.Error("trail: checkpoint not signed", "err", err)
		} else if fresh {
			log.Debug("trail: checkpoint signed")
		}
	}
	publish()
	for {
		select {
		case <-ctx.Done():
			return
		case <-drain.C:
			for {
				n, err := l.DrainOutbox(ctx, 0)
				if err != nil {
					if ctx.Err() == nil {
						log.Error("trail: outbox not drained", "err", err)
					}
					break
				}
				if n == 0 {
					break
				}
			}
		case <-sign.C:
			publish()
		}
	}
}

package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/realname/realname/internal/authority"
	"github.com/realname/realname/internal/realname"
)

const authorityUsage = `usage:
  realname authority add --name NAME (--key PUBKEY | --generate FILE) [--operator NAME]
        register an institution. PUBKEY is the base64 of its Ed25519 public key:
        the raw 32 bytes, or the DER SubjectPublicKeyInfo (openssl pkey -pubout -outform DER | base64).
        --generate writes a new private key to FILE (PKCS#8 PEM, mode 0600) to hand to the institution.
        A key registered already (to any authority, even a revoked one) is refused.
  realname authority list                     list the institutions: id, name, registered, revoked
  realname authority revoke ID [--operator NAME]
        refuse the institution's requests from now on
each also takes [--config FILE] [--data DIR] [--database-url URL]; add and revoke are recorded in the audit log
(--operator defaults to $USER). docs/authority.md explains how an institution signs its requests.`

func runAuthority(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return errors.New(authorityUsage)
	}
	switch args[0] {
	case "add":
		return authorityAdd(ctx, env, args[1:])
	case "list":
		return authorityList(ctx, env, args[1:])
	case "revoke":
		return authorityRevoke(ctx, env, args[1:])
	}
	return errors.New(authorityUsage)
}

// withAuthorities opens the store as the authorities' store.
func withAuthorities(ctx context.Context, env Env, name string, args []string, fn func(authority.Store) error) error {
	return withStore(ctx, env, name, args, func(s realname.Store) error {
		as, ok := s.(authority.Store)
		if !ok {
			return errors.New("this database cannot keep authorities")
		}
		return fn(as)
	})
}

// parsePublicKey reads an Ed25519 public key from base64: raw 32 bytes or
// a DER SubjectPublicKeyInfo.
func parsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	var b []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errors.New("--key is not base64")
	}
	if len(b) == ed25519.PublicKeySize {
		return ed25519.PublicKey(b), nil
	}
	k, err := x509.ParsePKIXPublicKey(b)
	if err != nil {
		return nil, errors.New("--key is neither 32 bytes of Ed25519 public key nor a DER public key")
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("--key is not an Ed25519 key")
	}
	return pub, nil
}

// generateKey writes a new Ed25519 private key to path (PKCS#8 PEM, mode
// 0600, never over an existing file) and returns its public key.
func generateKey(path string) (ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write the private key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write the private key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write the private key: %w", err)
	}
	return pub, nil
}

func authorityAdd(ctx context.Context, env Env, args []string) error {
	fs := newOpFlags("authority add", authorityUsage)
	name := fs.String("name", "", "the institution's name")
	key := fs.String("key", "", "its Ed25519 public key (base64)")
	gen := fs.String("generate", "", "write a new private key to this file instead")
	_, rest, err := fs.parse(env, 0, args)
	if err != nil {
		return err
	}
	if *name == "" || (*key == "") == (*gen == "") {
		return errors.New("--name and exactly one of --key or --generate are required\n" + authorityUsage)
	}
	return withAuthorities(ctx, env, "authority add", rest, func(st authority.Store) error {
		var pub ed25519.PublicKey
		var err error
		if *key != "" {
			pub, err = parsePublicKey(*key)
		} else {
			pub, err = generateKey(*gen)
		}
		if err != nil {
			return err
		}
		a, err := authority.Register(ctx, st, *name, pub, *fs.operator, time.Now())
		if err != nil {
			if *gen != "" {
				_ = os.Remove(*gen)
			}
			return err
		}
		fmt.Fprintln(env.Stdout, a.ID)
		fmt.Fprintf(env.Stderr, "Authority %s (%s) registered; public key %s.\n", a.ID, a.Name, base64.StdEncoding.EncodeToString(pub))
		if *gen != "" {
			fmt.Fprintf(env.Stderr, "Its private key is in %s: hand it to the institution over a safe channel and delete your copy.\n", *gen)
		}
		return nil
	})
}

func authorityList(ctx context.Context, env Env, args []string) error {
	return withAuthorities(ctx, env, "authority list", args, func(st authority.Store) error {
		as, err := st.Authorities(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tREGISTERED\tBY\tREVOKED\tPUBLIC KEY")
		for _, a := range as {
			revoked := "-"
			if a.Revoked() {
				revoked = a.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Name, a.CreatedAt.UTC().Format(time.RFC3339), a.CreatedBy,
				revoked, base64.StdEncoding.EncodeToString(a.PublicKey))
		}
		return tw.Flush()
	})
}

func authorityRevoke(ctx context.Context, env Env, args []string) error {
	fs := newOpFlags("authority revoke", authorityUsage)
	pos, rest, err := fs.parse(env, 1, args)
	if err != nil {
		return err
	}
	return withAuthorities(ctx, env, "authority revoke", rest, func(st authority.Store) error {
		if err := authority.Revoke(ctx, st, pos[0], *fs.operator, time.Now()); err != nil {
			if errors.Is(err, realname.ErrNotFound) {
				return fmt.Errorf("no authority %s", pos[0])
			}
			return err
		}
		fmt.Fprintf(env.Stdout, "authority %s revoked\n", pos[0])
		return nil
	})
}

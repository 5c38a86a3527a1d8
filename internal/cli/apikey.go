package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/realname/realname/internal/app"
	"github.com/realname/realname/internal/realname"
)

const apikeyUsage = `usage:
  realname apikey create --name NAME   print a new API key once (stored hashed) and its id
  realname apikey list                 list the keys: id, name, created, revoked
  realname apikey revoke ID            revoke a key (a running server stops accepting it within 30 s)
each also takes [--config FILE] [--data DIR] [--database-url URL]`

func runAPIKey(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return errors.New(apikeyUsage)
	}
	switch args[0] {
	case "create":
		return apikeyCreate(ctx, env, args[1:])
	case "list":
		return apikeyList(ctx, env, args[1:])
	case "revoke":
		return apikeyRevoke(ctx, env, args[1:])
	}
	return errors.New(apikeyUsage)
}

func apikeyCreate(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	name := fs.String("name", "", "a name for the key (who uses it)")
	// The remaining flags go to the configuration loader.
	rest, err := splitFlags(fs, args)
	if err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" || len(*name) > 100 {
		return errors.New("--name is required (1–100 characters)")
	}
	return withStore(ctx, env, "apikey create", rest, func(store realname.Store) error {
		secret, id, err := app.CreateAPIKey(ctx, store, *name)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, secret)
		fmt.Fprintf(env.Stderr, "Key %s (%s). Store it now: it is shown only once (realname keeps only its hash).\n", id, *name)
		return nil
	})
}

func apikeyList(ctx context.Context, env Env, args []string) error {
	return withStore(ctx, env, "apikey list", args, func(store realname.Store) error {
		keys, err := store.APIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if !k.RevokedAt.IsZero() {
				revoked = k.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Name, k.CreatedAt.UTC().Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	})
}

func apikeyRevoke(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New("usage: realname apikey revoke ID (see realname apikey list)")
	}
	id := args[0]
	return withStore(ctx, env, "apikey revoke", args[1:], func(store realname.Store) error {
		err := store.RevokeAPIKey(ctx, id, time.Now().UTC())
		if errors.Is(err, realname.ErrNotFound) {
			return fmt.Errorf("no API key with id %q (see realname apikey list)", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "API key %s revoked; running servers stop accepting it within 30 s\n", id)
		return nil
	})
}

// withStore loads the configuration, opens the database and runs fn.
func withStore(ctx context.Context, env Env, name string, args []string, fn func(realname.Store) error) error {
	cfg, err := loadConfig(name, env, args)
	if err != nil {
		return err
	}
	store, err := app.OpenStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	return fn(store)
}

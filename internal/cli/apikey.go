package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/realname/realname/internal/app"
)

func runAPIKey(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: realname apikey create --name NAME [--config FILE] [--data DIR] [--database-url URL]")
	}
	fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	name := fs.String("name", "", "a name for the key (who uses it)")
	// The remaining flags go to the configuration loader.
	var rest []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--name" || a == "-name" {
			if i+1 < len(args) {
				*name = args[i+1]
				i++
			}
			continue
		}
		if strings.HasPrefix(a, "--name=") || strings.HasPrefix(a, "-name=") {
			*name = a[strings.Index(a, "=")+1:]
			continue
		}
		rest = append(rest, a)
	}
	if strings.TrimSpace(*name) == "" || len(*name) > 100 {
		return errors.New("--name is required (1–100 characters)")
	}
	cfg, err := loadConfig("apikey create", env, rest)
	if err != nil {
		return err
	}
	store, err := app.OpenStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	secret, err := app.CreateAPIKey(ctx, store, *name)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, secret)
	fmt.Fprintln(env.Stderr, "Store this key now: it is shown only once (realname keeps only its hash).")
	return nil
}

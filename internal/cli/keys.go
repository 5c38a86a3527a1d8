package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/realname/realname/internal/app"
)

func runKeys(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("usage: realname keys rotate [--config FILE] [--data DIR] [--database-url URL]")
	}
	cfg, err := loadConfig("keys rotate", env, args[1:])
	if err != nil {
		return err
	}
	res, err := app.RotateKeys(ctx, cfg, env.Getenv, func(done, rewrapped int) {
		fmt.Fprintf(env.Stderr, "\rchecked %d persons, re-wrapped %d", done, rewrapped)
	})
	fmt.Fprintln(env.Stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "new primary key %s; re-wrapped %d of %d persons' data keys\n", res.NewKeyID, res.Rewrapped, res.Checked)
	return nil
}

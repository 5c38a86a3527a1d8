package cli

import (
	"context"
	"fmt"

	"github.com/realname/realname/internal/app"
)

func runServe(ctx context.Context, env Env, args []string) error {
	cfg, err := loadConfig("serve", env, args)
	if err != nil {
		return err
	}
	log := logger(env.Stderr, cfg.LogLevel)
	if cfg.RedisURL != "" {
		log.Warn("REDIS_URL is set, but this build keeps its cache in-process; run one replica")
	}
	a, err := app.New(ctx, cfg, app.Options{Logger: log, Getenv: env.Getenv, Stdout: env.Stdout})
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

func runMigrate(ctx context.Context, env Env, args []string) error {
	cfg, err := loadConfig("migrate", env, args)
	if err != nil {
		return err
	}
	store, err := app.OpenStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	fmt.Fprintf(env.Stdout, "migrations applied (%s)\n", store.Dialect())
	return nil
}

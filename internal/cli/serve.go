package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/realname/realname/internal/app"
	"github.com/realname/realname/internal/logbuf"
)

func runServe(ctx context.Context, env Env, args []string) error {
	cfg, err := loadConfig("serve", env, args)
	if err != nil {
		return err
	}
	// Logs are written out in batches (every 100 ms, and at once for
	// warnings and errors): one write(2) per access-log line costs a busy
	// server more than the line itself.
	sink := logbuf.New(env.Stderr, 100*time.Millisecond)
	defer sink.Close()
	log := slog.New(logbuf.Handler(jsonHandler(sink, cfg.LogLevel), sink))
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

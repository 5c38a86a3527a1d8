package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/realname/realname/internal/app"
)

const retentionUsage = `usage:
  realname retention run   delete what has passed its retention period, once, and print what went
                           (a running server does this every hour)
also takes [--operator NAME] (not needed) [--config FILE] [--data DIR] [--database-url URL]`

func runRetention(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "run" {
		return errors.New(retentionUsage)
	}
	// The job acts as the system; --operator is accepted and not needed.
	fs := newOpFlags("retention run", retentionUsage)
	*fs.operator = "-"
	_, rest, err := fs.parse(env, 0, args[1:])
	if err != nil {
		return err
	}
	return withOffline(ctx, env, "retention run", rest, func(o *app.Offline) error {
		rep, err := o.Service.RunRetention(ctx)
		if err != nil {
			return err
		}
		w := env.Stdout
		fmt.Fprintf(w, "expired user records:  %d\n", rep.ExpiredRecords)
		fmt.Fprintf(w, "persons erased:        %d\n", rep.Persons)
		fmt.Fprintf(w, "review files deleted:  %d\n", rep.ReviewFiles)
		fmt.Fprintf(w, "idempotent answers:    %d\n", rep.Idempotency)
		fmt.Fprintf(w, "audit entries:         %d\n", rep.Audit)
		fmt.Fprintf(w, "total:                 %d\n", rep.Total())
		return nil
	})
}

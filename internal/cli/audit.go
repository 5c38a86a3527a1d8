package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/realname/realname/internal/app"
	"github.com/realname/realname/internal/realname"
)

const auditUsage = `usage:
  realname audit [--after ID] [--limit N] [--subject USER_ID]
      the audit log, oldest first: entries after ID (default all), at most N (default 100),
      only about USER_ID with --subject (its pseudonym after an erasure)
also takes [--operator NAME] (not needed) [--config FILE] [--data DIR] [--database-url URL]`

func runAudit(ctx context.Context, env Env, args []string) error {
	fs := newOpFlags("audit", auditUsage)
	after := fs.Int64("after", 0, "entries after this id")
	limit := fs.Int("limit", 100, "at most this many entries")
	subject := fs.String("subject", "", "only entries about this user id")
	// Reading the log shows no personal data: the operator is optional.
	*fs.operator = "-"
	_, rest, err := fs.parse(env, 0, args)
	if err != nil {
		return err
	}
	if *limit <= 0 {
		return errors.New("--limit must be positive")
	}
	return withOffline(ctx, env, "audit", rest, func(o *app.Offline) error {
		var entries []realname.AuditEntry
		var err error
		if *subject != "" {
			entries, err = o.Store.AuditFor(ctx, *subject, *limit+int(min(max(*after, 0), 1_000_000)))
			kept := entries[:0]
			for _, e := range entries {
				if e.ID > *after {
					kept = append(kept, e)
				}
			}
			entries = kept[:min(len(kept), *limit)]
		} else {
			entries, err = o.Store.AuditLog(ctx, *after, *limit)
		}
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTIME\tACTOR_KIND\tACTOR\tACTION\tSUBJECT\tTARGET\tFIELDS\tMASKED\tREASON")
		for _, e := range entries {
			fields := strings.Join(e.Fields, ",")
			masked := "-"
			if len(e.Fields) > 0 {
				masked = "no"
				if e.Masked {
					masked = "yes"
				}
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, stamp(e.At), e.ActorKind, dash(e.Actor), e.Action,
				dash(e.Subject), dash(e.Target), dash(fields), masked, dash(oneLine(e.Reason)))
		}
		return tw.Flush()
	})
}

// dash is s, or "-" if empty.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine replaces tabs and line breaks so a value stays in its cell.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

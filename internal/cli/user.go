package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/realname/realname/internal/app"
	"github.com/realname/realname/internal/realname"
)

const userUsage = `usage:
  realname user unlock USER_ID --reason TEXT        lift the user's lockout after failed verifications
  realname user erase USER_ID --reason TEXT [--yes] erase everything held about the user (asks to type the
                                                    user id unless --yes) and tell the provider to delete its copies
  realname user data USER_ID --reason TEXT          print everything held about the user as JSON
each also takes [--operator NAME] (default $USER) [--config FILE] [--data DIR] [--database-url URL]`

func runUser(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	switch args[0] {
	case "unlock":
		return userUnlock(ctx, env, args[1:])
	case "erase":
		return userErase(ctx, env, args[1:])
	case "data":
		return userData(ctx, env, args[1:])
	}
	return errors.New(userUsage)
}

func userUnlock(ctx context.Context, env Env, args []string) error {
	fs := newOpFlags("user unlock", userUsage)
	reason := fs.String("reason", "", "why (recorded)")
	pos, rest, err := fs.parse(env, 1, args)
	if err != nil {
		return err
	}
	return withOffline(ctx, env, "user unlock", rest, func(o *app.Offline) error {
		if err := o.Service.Unlock(ctx, realname.Operator{Name: *fs.operator, Reason: *reason}, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "user %s unlocked: earlier failed verifications no longer count\n", pos[0])
		return nil
	})
}

func userErase(ctx context.Context, env Env, args []string) error {
	fs := newOpFlags("user erase", userUsage)
	reason := fs.String("reason", "", "why (recorded)")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	pos, rest, err := fs.parse(env, 1, args)
	if err != nil {
		return err
	}
	userID := pos[0]
	if !*yes {
		in := env.Stdin
		if in == nil {
			in = os.Stdin
		}
		fmt.Fprintf(env.Stderr, "This erases everything held about user %s; it cannot be undone.\ntype the user id to confirm: ", userID)
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if strings.TrimSpace(line) != userID {
			return errors.New("not confirmed: nothing erased")
		}
	}
	return withOffline(ctx, env, "user erase", rest, func(o *app.Offline) error {
		rep, err := o.Service.Erase(ctx, realname.Actor{Kind: realname.ActorOperator, Name: *fs.operator, Reason: *reason}, userID)
		if err != nil {
			return err
		}
		flushed := o.Service.FlushDeletions(ctx)
		w := env.Stdout
		if rep.NothingHeld {
			fmt.Fprintf(w, "user %s: nothing held\n", rep.UserID)
		} else {
			fmt.Fprintf(w, "user %s erased at %s\n", rep.UserID, stamp(rep.ErasedAt))
		}
		fmt.Fprintf(w, "pseudonym:                   %s\n", rep.Pseudonym)
		fmt.Fprintf(w, "sessions cancelled:          %d\n", rep.SessionsCancelled)
		fmt.Fprintf(w, "persons erased:              %d\n", rep.PersonsErased)
		fmt.Fprintf(w, "sessions kept (anonymous):   %d\n", rep.SessionsKept)
		fmt.Fprintf(w, "provider deletions queued:   %d\n", rep.ProviderDeletions)
		fmt.Fprintf(w, "provider deletions flushed:  %d\n", flushed)
		return nil
	})
}

func userData(ctx context.Context, env Env, args []string) error {
	fs := newOpFlags("user data", userUsage)
	reason := fs.String("reason", "", "why (recorded)")
	pos, rest, err := fs.parse(env, 1, args)
	if err != nil {
		return err
	}
	return withOffline(ctx, env, "user data", rest, func(o *app.Offline) error {
		d, err := o.Service.Data(ctx, realname.Actor{Kind: realname.ActorOperator, Name: *fs.operator, Reason: *reason}, pos[0])
		if err != nil {
			return err
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d); err != nil {
			return err
		}
		fmt.Fprintln(env.Stderr, "(this export is recorded in the audit log)")
		return nil
	})
}

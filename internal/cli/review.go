package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/realname/realname/internal/app"
	"github.com/realname/realname/internal/realname"
)

const reviewUsage = `usage:
  realname review list [--limit N]                          the reviews waiting for a decision, oldest first (masked)
  realname review show CERTIFY_ID [--reason TEXT] [--files DIR]
                                                            one review: masked without a reason; with one the full
                                                            name, number and note, and --files DIR writes the files
  realname review approve CERTIFY_ID --reason TEXT          verify the user (evidence manual_review)
  realname review reject CERTIFY_ID --reason TEXT           fail the session (REVIEW_REJECTED)
each also takes [--operator NAME] (default $USER) [--config FILE] [--data DIR] [--database-url URL]`

func runReview(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return errors.New(reviewUsage)
	}
	switch args[0] {
	case "list":
		return reviewList(ctx, env, args[1:])
	case "show":
		return reviewShow(ctx, env, args[1:])
	case "approve":
		return reviewDecide(ctx, env, args[1:], true)
	case "reject":
		return reviewDecide(ctx, env, args[1:], false)
	}
	return errors.New(reviewUsage)
}

func reviewList(ctx context.Context, env Env, args []string) error {
	fs := newOpFlags("review list", reviewUsage)
	limit := fs.Int("limit", 100, "at most this many reviews (1–500)")
	_, rest, err := fs.parse(env, 0, args)
	if err != nil {
		return err
	}
	return withOffline(ctx, env, "review list", rest, func(o *app.Offline) error {
		items, err := o.Service.ReviewQueue(ctx, *fs.operator, *limit)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CERTIFY_ID\tUSER_ID\tNAME\tID_NUMBER\tSUBMITTED\tDEADLINE")
		for _, it := range items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", it.CertifyID, it.UserID, it.Name, it.IDNumber, stamp(it.SubmittedAt), stamp(it.Deadline))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "%d review(s) waiting\n", len(items))
		return nil
	})
}

func reviewShow(ctx context.Context, env Env, args []string) error {
	fs := newOpFlags("review show", reviewUsage)
	reason := fs.String("reason", "", "why you look at the full identity and the files")
	dir := fs.String("files", "", "write the files to this `directory` (needs --reason)")
	pos, rest, err := fs.parse(env, 1, args)
	if err != nil {
		return err
	}
	if *dir != "" && *reason == "" {
		return errors.New("--files needs --reason (the files are only shown with a reason)")
	}
	return withOffline(ctx, env, "review show", rest, func(o *app.Offline) error {
		it, err := o.Service.Review(ctx, realname.Operator{Name: *fs.operator, Reason: *reason}, pos[0])
		if err != nil {
			return err
		}
		w := env.Stdout
		fmt.Fprintf(w, "certify_id:  %s\nuser_id:     %s\ncert_type:   %s\n", it.CertifyID, it.UserID, it.CertType)
		fmt.Fprintf(w, "name:        %s\nid_number:   %s\n", it.Name, it.IDNumber)
		fmt.Fprintf(w, "status:      %s\nsubmitted:   %s\ndeadline:    %s\n", it.Status, stamp(it.SubmittedAt), stamp(it.Deadline))
		if it.Decision != "" {
			fmt.Fprintf(w, "decision:    %s by %s (%s)\n", it.Decision, it.DecidedBy, it.Reason)
		}
		if it.Masked {
			fmt.Fprintln(w, "(masked: give --reason to see the full identity, the note and the files)")
			return nil
		}
		if it.Note != "" {
			fmt.Fprintf(w, "note:        %s\n", it.Note)
		}
		for i, f := range it.Files {
			line := fmt.Sprintf("file %d:      %s %s, %d bytes", i+1, f.Kind, f.ContentType, len(f.Data))
			if *dir != "" {
				path, err := writeReviewFile(*dir, it.CertifyID, i+1, f)
				if err != nil {
					return err
				}
				line += " → " + path
			}
			fmt.Fprintln(w, line)
		}
		if len(it.Files) > 0 && *dir == "" {
			fmt.Fprintln(w, "(give --files DIR to write the files; they are never printed)")
		}
		return nil
	})
}

// fileExt is the file name extension of each accepted content type.
var fileExt = map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}

// writeReviewFile writes one review file to dir (created 0700) as
// <certify_id>-<n>-<kind>.<ext>, mode 0600, and returns its path.
func writeReviewFile(dir, certifyID string, n int, f realname.ReviewFile) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	ext, ok := fileExt[f.ContentType]
	if !ok {
		ext = ".bin"
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d-%s%s", certifyID, n, filepath.Base(f.Kind), ext))
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	if err := fh.Chmod(0o600); err != nil {
		fh.Close()
		return "", err
	}
	if _, err := fh.Write(f.Data); err != nil {
		fh.Close()
		return "", err
	}
	return path, fh.Close()
}

func reviewDecide(ctx context.Context, env Env, args []string, approve bool) error {
	name := "review reject"
	if approve {
		name = "review approve"
	}
	fs := newOpFlags(name, reviewUsage)
	reason := fs.String("reason", "", "why (recorded with the decision)")
	pos, rest, err := fs.parse(env, 1, args)
	if err != nil {
		return err
	}
	return withOffline(ctx, env, name, rest, func(o *app.Offline) error {
		v, err := o.Service.DecideReview(ctx, realname.Operator{Name: *fs.operator, Reason: *reason}, pos[0], approve)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "review %s of user %s: status %s", v.CertifyID, v.UserID, v.Status)
		if v.Evidence != "" {
			fmt.Fprintf(env.Stdout, " (evidence %s)", v.Evidence)
		}
		if v.FailReason != "" {
			fmt.Fprintf(env.Stdout, " (%s)", v.FailReason)
		}
		fmt.Fprintln(env.Stdout)
		return nil
	})
}

// stamp formats a time for a table ("-" if zero).
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

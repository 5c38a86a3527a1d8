package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/realname/realname/internal/app"
	"github.com/realname/realname/internal/realname"
	"github.com/realname/realname/internal/trail"
)

const trailUsage = `usage:
  realname trail rotate-key [flags of serve]
      make a new signing key for the trail; the old key goes on cosigning every checkpoint until you retire
      it (replace its PRIVATE+KEY line in the key file by its public key), so old and new checkpoints keep
      verifying. Restart the servers to use it; the log records the new key in a log.key entry.
  realname trail export --user USER_ID --reason WHY [--operator NAME] [--subject HANDLE] [flags of serve]
      write the evidence package of the user's identity (its entries, their inclusion proofs, a fresh
      checkpoint, a consistency proof and the log's key) as JSON to standard output. The request is
      recorded: in the audit log (the person sees it in their data export) and as a trail entry.
      A user who tried several identities has several handles: the newest is exported, --subject picks.
  realname trail verify FILE [--key VKEY]... [--request-ref REF] [--witness-key VKEY]... [--json]
      check an evidence package offline (no network, no database) and print, step by step, what it
      proves; FILE "-" reads standard input. Exits 0 only if every check passes.
      --key VKEY  the log's published verifier key (name+hash+base64), repeatable; without it the
                  key inside the package is used, which proves only that the package agrees with itself.
                  After a key rotation give every key of GET /trail/keys, or older checkpoints fail
      --request-ref REF
                  the request_ref your request was given: the package must answer that request and end
                  with its entry (without it, a package cut short after an earlier request also passes)
      --witness-key VKEY
                  a witness's cosignature/v1 verifier key, repeatable: the checkpoint must carry a valid
                  cosignature of each, which shows the log did not show you a history it hid from them
      --json      print the report as JSON`

// runTrail runs the trail sub-commands: verify works offline, export reads
// the database.
func runTrail(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return errors.New(trailUsage)
	}
	switch args[0] {
	case "verify":
		return trailVerify(ctx, env, args[1:])
	case "export":
		return trailExport(ctx, env, args[1:])
	case "rotate-key":
		return trailRotateKey(env, args[1:])
	}
	return errors.New(trailUsage)
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func trailVerify(_ context.Context, env Env, args []string) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprintln(env.Stderr, trailUsage)
			return flag.ErrHelp
		}
	}
	fs := flag.NewFlagSet("trail verify", flag.ContinueOnError)
	var keys stringList
	fs.Var(&keys, "key", "the log's verifier key (repeatable)")
	requestRef := fs.String("request-ref", "", "the request the package must answer")
	var witnessKeys stringList
	fs.Var(&witnessKeys, "witness-key", "a witness's cosignature verifier key (repeatable)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	rest, err := splitFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || rest[0] == "" || (strings.HasPrefix(rest[0], "-") && rest[0] != "-") {
		return errors.New(trailUsage)
	}
	data, err := readPackage(env, rest[0])
	if err != nil {
		return err
	}
	p, err := trail.ParsePackage(data)
	if err != nil {
		return fmt.Errorf("%s is not a valid evidence package: %w", name(rest[0]), err)
	}
	report, verr := trail.VerifyPackage(p, trail.VerifyOptions{TrustedKeys: keys, ExpectedRequestRef: *requestRef, WitnessKeys: witnessKeys})
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		printReport(env.Stdout, p, report)
	}
	if verr != nil {
		var ve *trail.VerifyError
		if errors.As(verr, &ve) {
			if ve.Index >= 0 {
				return fmt.Errorf("verification FAILED: check %s failed at entry %d: %v", ve.Step, ve.Index, ve.Err)
			}
			return fmt.Errorf("verification FAILED: check %s failed: %v", ve.Step, ve.Err)
		}
		return fmt.Errorf("verification FAILED: %w", verr)
	}
	return nil
}

func name(path string) string {
	if path == "-" {
		return "standard input"
	}
	return path
}

// readPackage reads a package file, or standard input for "-", refusing
// more than trail.MaxPackageBytes.
func readPackage(env Env, path string) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = env.Stdin
		if r == nil {
			r = os.Stdin
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read the package: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, trail.MaxPackageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the package from %s: %w", name(path), err)
	}
	if len(data) > trail.MaxPackageBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB, more than any evidence package", name(path), trail.MaxPackageBytes>>20)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s is empty", name(path))
	}
	return data, nil
}

// printReport writes the report step by step in plain language.
func printReport(w io.Writer, p *trail.Package, r trail.Report) {
	m := p.Manifest
	fmt.Fprintf(w, "Evidence package for subject %s in the log %q\n", clean(m.Subject), clean(m.Origin))
	fmt.Fprintf(w, "created %s, %d entries", m.Created.UTC().Format("2006-01-02 15:04:05 UTC"), len(p.Entries))
	if m.Purpose != "" {
		fmt.Fprintf(w, "; purpose: %s", clean(m.Purpose))
	}
	if m.RequestedBy != "" {
		fmt.Fprintf(w, "; requested by: %s", clean(m.RequestedBy))
	}
	fmt.Fprintln(w)
	if r.KeySource == "trusted" {
		fmt.Fprintln(w, "checked with the log key(s) you supplied (--key)")
	} else {
		fmt.Fprintln(w, "WARNING: no --key given: checked with the key inside the package, which proves only that the package agrees with itself")
	}
	for i, s := range r.Steps {
		fmt.Fprintf(w, "\n%d. %s: %s\n", i+1, s.Name, strings.ToUpper(string(s.Status)))
		if s.Name != trail.StepSummary {
			fmt.Fprintf(w, "   what it proves: %s\n", clean(s.Proves))
		}
		label := "checked"
		switch s.Status {
		case trail.StatusFail:
			label = "FAILED"
		case trail.StatusSkipped:
			label = "skipped"
		}
		fmt.Fprintf(w, "   %s: %s\n", label, clean(s.Detail))
	}
	if len(r.Proves) > 0 {
		fmt.Fprintln(w, "\nWhat this package proves:")
		for _, s := range r.Proves {
			fmt.Fprintf(w, "  - %s\n", clean(s))
		}
	}
	fmt.Fprintln(w, "\nWhat it does not prove:")
	for _, s := range r.DoesNotProve {
		fmt.Fprintf(w, "  - %s\n", clean(s))
	}
	if f := r.Failed(); f != nil {
		fmt.Fprintf(w, "\nRESULT: FAILED at check %s\n", clean(f.Name))
	} else {
		fmt.Fprintln(w, "\nRESULT: every check passed")
	}
}

// clean makes text from a package safe to print on a terminal: a package
// is outside input, and a control character (ESC above all) could move
// the cursor or hide lines, say to fake the verdict. Tabs and line breaks
// become spaces; other control characters (C0, DEL, C1) and invisible
// format characters (bidi overrides, zero-width marks) become U+FFFD.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return unicode.ReplacementChar
		}
		return r
	}, s)
}

func trailExport(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return errors.New(trailUsage)
	}
	fs := newOpFlags("trail export", trailUsage)
	user := fs.String("user", "", "the platform's user id")
	reason := fs.String("reason", "", "why (recorded, and written into the package)")
	subject := fs.String("subject", "", "which of the user's handles (default: the newest)")
	_, rest, err := fs.parse(env, 0, args)
	if err != nil {
		return err
	}
	if *user == "" {
		return errors.New("--user is required\n" + trailUsage)
	}
	return withOffline(ctx, env, "trail export", rest, func(o *app.Offline) error {
		by := realname.Actor{Kind: realname.ActorOperator, Name: *fs.operator, Reason: *reason}
		subjects, ref, err := o.Service.TrailRequest(ctx, by, *user, *reason)
		if err != nil {
			return err
		}
		pick := subjects[0]
		if *subject != "" {
			if !slices.Contains(subjects, *subject) {
				return fmt.Errorf("%s is not one of the user's handles (%s)", *subject, strings.Join(subjects, ", "))
			}
			pick = *subject
		}
		// The request's own entry, and anything else queued, goes in first.
		l, err := o.Trail(ctx)
		if err != nil {
			return err
		}
		if err := l.Drain(ctx); err != nil {
			return err
		}
		w, err := o.TrailWitness()
		if err != nil {
			return err
		}
		p, err := trail.BuildPackage(ctx, l, o.Store, pick, trail.PackageOptions{
			Keys: l.VerifierKeys(), Purpose: *reason, RequestedBy: "operator " + *fs.operator, RequestRef: ref, Witness: w})
		if err != nil {
			return err
		}
		b, err := p.Marshal()
		if err != nil {
			return err
		}
		if _, err := env.Stdout.Write(append(b, '\n')); err != nil {
			return err
		}
		if len(subjects) > 1 {
			fmt.Fprintf(env.Stderr, "the user has %d handles (%s); this package is %s's (--subject picks another)\n",
				len(subjects), strings.Join(subjects, ", "), pick)
		}
		fmt.Fprintf(env.Stderr, "%d entries; this export is recorded in the audit log and the trail\n", len(p.Entries))
		return nil
	})
}

func trailRotateKey(env Env, args []string) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprintln(env.Stderr, trailUsage)
			return flag.ErrHelp
		}
	}
	cfg, err := loadConfig("trail rotate-key", env, args)
	if err != nil {
		return err
	}
	vkey, err := app.RotateTrailKey(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "new trail key: %s\nrestart the servers to sign with it; publish it next to the old one\n", vkey)
	return nil
}

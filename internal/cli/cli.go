package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/realname/realname/internal/config"
	"github.com/realname/realname/internal/realname"
)

// Env is what a command gets from the process.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Stdin is where a command reads a confirmation (os.Stdin if nil).
	Stdin io.Reader
}

// command is one sub-command.
type command struct {
	name, summary string
	run           func(ctx context.Context, env Env, args []string) error
}

var commands = []command{
	{"serve", "run the service (default: 127.0.0.1:8001, SQLite and keys in ./realname-data, sandbox provider)", runServe},
	{"migrate", "apply database migrations and exit", runMigrate},
	{"apikey", "apikey create --name NAME: print a new API key once (stored hashed)", runAPIKey},
	{"keys", "keys rotate: add a key-encryption key, make it primary and re-wrap every person's data key", runKeys},
	{"review", "review list|show|approve|reject: the manual review queue (names masked unless --reason)", runReview},
	{"user", "user unlock|erase|data USER_ID --reason TEXT: lift a lockout, erase a user, export a user's data", runUser},
	{"retention", "retention run: delete what has passed its retention period once and print what went", runRetention},
	{"audit", "audit [--after ID] [--limit N] [--subject USER_ID]: print the audit log", runAudit},
	{"authority", "authority add --name NAME (--key PUBKEY | --generate FILE) | list | revoke ID: the institutions that deposit identities and request trails", runAuthority},
	{"trail", "trail export --user ID --reason WHY | verify FILE [--key VKEY] [--json]: write a person's evidence package; check one offline", runTrail},
	{"cloudauth-sim", "run the Cloudauth simulator alone (--addr HOST:PORT; key pair from ALIYUN_ACCESS_KEY_ID/SECRET)", runSim},
}

// Main runs the sub-command named by args[0] until it ends or the process
// gets SIGINT or SIGTERM, and returns the exit code.
func Main(args []string, env Env) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, env)
}

// Run runs the sub-command named by args[0] until it ends or ctx does, and
// returns the exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var de *realname.Error
		if errors.As(err, &de) {
			// The domain's message is safe to show; an internal cause is
			// shown too, to diagnose it.
			if de.Err != nil && (de.Kind == realname.KindInternal || de.Kind == realname.KindUnavailable) {
				fmt.Fprintf(env.Stderr, "error: %s: %s (%v)\n", de.Code, de.Message, de.Err)
			} else {
				fmt.Fprintf(env.Stderr, "error: %s: %s\n", de.Code, de.Message)
			}
			return 1
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "realname %s: %v\n", c.name, err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(env.Stderr, "realname: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: realname <command> [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command accepts --config FILE and reads the environment (see README.md).")
	fmt.Fprintln(w, "review, user, trail export and authority take --operator NAME (default $USER); what they do is recorded in the audit log.")
}

// logger builds the JSON logger for a level.
func logger(w io.Writer, level string) *slog.Logger {
	return slog.New(jsonHandler(w, level))
}

// jsonHandler is the JSON log handler for a level.
func jsonHandler(w io.Writer, level string) slog.Handler {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})
}

// loadConfig loads and validates the configuration for a command.
func loadConfig(name string, env Env, args []string) (config.Config, error) {
	cfg, err := config.Load(name, args, env.Getenv)
	if err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

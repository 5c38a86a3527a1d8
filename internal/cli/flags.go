package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/realname/realname/internal/app"
)

// splitFlags sets the flags fs defines from args, wherever they stand
// (--name VALUE, --name=VALUE, -name VALUE; a boolean flag alone), and
// returns the other arguments, in order, for the configuration loader.
// A value flag given last, without its value, keeps its default.
func splitFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		var f *flag.Flag
		name, value, hasValue := "", "", false
		if strings.HasPrefix(a, "-") {
			name, value, hasValue = strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
			if name != "" && !strings.HasPrefix(name, "-") {
				f = fs.Lookup(name)
			}
		}
		if f == nil {
			rest = append(rest, a)
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			if i+1 >= len(args) {
				continue
			}
			i++
			value = args[i]
		}
		if err := fs.Set(name, value); err != nil {
			return nil, fmt.Errorf("--%s: %v", name, err)
		}
	}
	return rest, nil
}

// opFlags is the flag set of an operator command: --operator (default
// $USER) and the command's own flags; the rest go to the configuration
// loader.
type opFlags struct {
	*flag.FlagSet
	operator *string
	usage    string
}

func newOpFlags(name, usage string) *opFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return &opFlags{FlagSet: fs, operator: fs.String("operator", "", "who acts (default $USER)"), usage: usage}
}

// parse takes npos positional arguments first, then the flags; it returns
// the positional arguments and the rest for the configuration loader.
func (f *opFlags) parse(env Env, npos int, args []string) (pos, rest []string, err error) {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprintln(env.Stderr, f.usage)
			return nil, nil, flag.ErrHelp
		}
	}
	for i := 0; i < npos; i++ {
		if i >= len(args) || strings.HasPrefix(args[i], "-") || args[i] == "" {
			return nil, nil, errors.New(f.usage)
		}
	}
	rest, err = splitFlags(f.FlagSet, args[npos:])
	if err != nil {
		return nil, nil, err
	}
	if *f.operator == "" && env.Getenv != nil {
		*f.operator = env.Getenv("USER")
	}
	if *f.operator == "" {
		return nil, nil, errors.New("--operator is required (or set $USER)\n" + f.usage)
	}
	return args[:npos], rest, nil
}

// withOffline loads the configuration from args, opens the service offline
// and runs fn.
func withOffline(ctx context.Context, env Env, name string, args []string, fn func(*app.Offline) error) error {
	cfg, err := loadConfig(name, env, args)
	if err != nil {
		return err
	}
	o, err := app.OpenOffline(ctx, cfg, env.Getenv, nil)
	if err != nil {
		return err
	}
	defer o.Close()
	return fn(o)
}

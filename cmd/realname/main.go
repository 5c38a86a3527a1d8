// Command realname is a real-name (实名) identity verification and
// authorization service. Run "realname help" for the commands.
package main

import (
	"os"

	"github.com/realname/realname/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
}

package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/realname/realname/internal/provider/cloudauthsim"
)

func runSim(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("cloudauth-sim", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	addr := fs.String("addr", "127.0.0.1:8002", "listen address host:port")
	public := fs.String("public-url", "", "externally visible base URL of the simulator (default http://ADDR)")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	id, secret := env.Getenv("ALIYUN_ACCESS_KEY_ID"), env.Getenv("ALIYUN_ACCESS_KEY_SECRET")
	if id == "" || secret == "" {
		return errors.New("set ALIYUN_ACCESS_KEY_ID and ALIYUN_ACCESS_KEY_SECRET: the simulator accepts requests signed with that key pair")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := strings.TrimRight(*public, "/")
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	log := logger(env.Stderr, *level)
	sim, err := cloudauthsim.New(cloudauthsim.Config{AccessKeyID: id, AccessKeySecret: secret, PublicURL: base, Logger: log})
	if err != nil {
		ln.Close()
		return err
	}
	defer sim.Close()
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(env.Stdout, "Cloudauth simulator on %s (endpoint for ALIYUN_ENDPOINT: %s)\n", base, strings.TrimPrefix(base, "http://"))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

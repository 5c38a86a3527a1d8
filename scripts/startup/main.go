// Command startup measures how long realname takes from exec to its first
// HTTP 200 on GET /ready, with the embedded defaults (SQLite, sandbox):
// on a fresh data directory (migrations, key generation, the development
// API key) and on an existing one. It polls /ready every 2 ms. Used by
// scripts/bench-startup.sh.
//
//	go run ./scripts/startup --bin ./realname --runs 10
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "./realname", "the realname binary")
	runs := flag.Int("runs", 10, "starts per case")
	poll := flag.Duration("poll", 2*time.Millisecond, "poll interval")
	flag.Parse()
	if err := run(*bin, *runs, *poll); err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		os.Exit(1)
	}
}

func run(bin string, runs int, poll time.Duration) error {
	work, err := os.MkdirTemp("", "realname-startup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	existing := filepath.Join(work, "existing")
	// Prepare the existing data directory with one start (not counted).
	if _, _, err := startOnce(bin, existing, poll); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	results := map[string][]time.Duration{}
	stops := map[string][]time.Duration{}
	for i := range runs {
		// Alternate the cases so drifting machine load hits both alike.
		for _, c := range []string{"fresh", "existing"} {
			dir := existing
			if c == "fresh" {
				dir = filepath.Join(work, fmt.Sprintf("fresh-%d", i))
			}
			ready, stop, err := startOnce(bin, dir, poll)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", c, i+1, err)
			}
			results[c] = append(results[c], ready)
			stops[c] = append(stops[c], stop)
		}
	}
	fmt.Printf("%-9s %5s %10s %10s %10s %14s\n", "data dir", "runs", "median ms", "min ms", "max ms", "stop median ms")
	for _, c := range []string{"fresh", "existing"} {
		d := results[c]
		slices.Sort(d)
		s := stops[c]
		slices.Sort(s)
		fmt.Printf("%-9s %5d %10.1f %10.1f %10.1f %14.1f\n", c, len(d), ms(median(d)), ms(d[0]), ms(d[len(d)-1]), ms(median(s)))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(d []time.Duration) time.Duration {
	n := len(d)
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startOnce starts realname on dataDir, waits for GET /ready to answer 200
// and stops it with SIGTERM. It returns the time from exec to the first 200
// and the time from SIGTERM to exit.
func startOnce(bin, dataDir string, poll time.Duration) (ready, stop time.Duration, err error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", dataDir)
	// The embedded defaults: only the address and the data directory are given.
	cmd.Env = os.Environ()
	var stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	url := "http://" + addr + "/ready"
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if err != nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	deadline := t0.Add(10 * time.Second)
	for {
		resp, perr := client.Get(url)
		if perr == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				ready = time.Since(t0)
				break
			}
		}
		select {
		case werr := <-exited:
			return 0, 0, fmt.Errorf("realname exited before ready (%v): %s", werr, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			return 0, 0, errors.New("not ready after 10 s")
		}
		time.Sleep(poll)
	}
	t1 := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	select {
	case werr := <-exited:
		if werr != nil {
			return 0, 0, fmt.Errorf("exit after SIGTERM: %v: %s", werr, stderr.String())
		}
	case <-ctx.Done():
		return 0, 0, errors.New("did not stop within 40 s of SIGTERM")
	}
	return ready, time.Since(t1), nil
}

// limitedBuffer keeps the first 64 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 64<<10 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }

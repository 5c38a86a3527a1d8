// Command loadgen is an open-loop, constant-rate HTTP/1.1 load generator
// (in the manner of wrk2) used by scripts/bench-http.sh to measure latency
// at a fixed offered rate rather than at saturation.
//
// A closed-loop tool such as wrk sends the next request on a connection as
// soon as the previous answer arrives, as fast as the server allows; at
// saturation its percentiles are dominated by queueing (Little's law) and
// say little about the latency at a given load. Worse, while the server
// stalls, a closed loop stops sending, so the stall is counted once instead
// of for every request that would have waited behind it (coordinated
// omission). loadgen instead fixes when every request is due: with -rate R
// and -conns C, connection i sends its k-th request at
// start + (k·C + i)/R. If an answer is late, the next request on that
// connection goes out as soon as the answer is in, and its latency is still
// counted from the time it was due. The latency it reports is therefore
// what a client sending R requests per second would see; the service time
// (from the actual send to the end of the answer, as wrk and most tools
// report it) is printed beside it.
//
// It is built to use little CPU, since it shares the machine's cores with
// the server it measures. Like wrk2 it is a single event loop, in one
// goroutine: raw non-blocking TCP keep-alive connections (dialled with
// net.Dial, then driven with epoll directly, re-opened when the server
// closes them), one prebuilt request written with a single write(2), an
// answer parser that reads only the status line, Content-Length,
// Transfer-Encoding and Connection and discards the body, and log-linear
// histograms (1 µs buckets below 1 ms, buckets under 1 % wide above) that
// do not allocate. Unlike wrk2, whose timers have a 1 ms resolution, it
// waits with epoll_pwait2 (nanosecond timeouts, Linux 5.11 or later) and a
// 1 µs timer slack, so a request goes out within a few microseconds of its
// due time when the machine is not overloaded; Go's own timers
// (time.Sleep) would add up to a millisecond. Answers must carry a
// Content-Length; chunked answers are refused as errors. Linux only.
//
// On the 2-vCPU virtual machine it was written on, it used about 28 µs of
// CPU per request at 20,000 req/s against scripts/baseline (0.55 of a
// core), nearly all of it in the kernel: every write wakes the server, and
// the generator sleeps and is woken about once per request. That is what
// wrk costs per request when it too waits for every answer (wrk -c1,
// 28 µs); wrk at saturation costs 13 µs, as nobody sleeps there. Its own
// figure is printed (gen_cpu_us), with the wake-ups per request.
//
// The generator's own delays are reported apart: the send lag is the time
// between the moment a request could have gone out (its due time, or the
// end of the previous answer on its connection if later) and the moment it
// went out. A large lag means the generator itself was late (CPU-starved),
// not the server. "Behind at the end" is how long before the end of the
// run the oldest request not yet sent by then was due: the server (or the
// generator) did not keep up. Such requests still go out, late, for up to
// half of -timeout after the end, and answers still outstanding are waited
// for, for up to -timeout after the end; requests that could not be sent by
// the first are counted as not sent, answers that did not come by the
// second as errors (each had at least half of -timeout to come).
//
//	go run ./scripts/loadgen -url http://127.0.0.1:18180/ -rate 20000 -duration 10s
//	go run ./scripts/loadgen -url http://127.0.0.1:18181/api/v1/auth/verify -method POST \
//	    -body '{"user_id":"u1"}' -header 'Content-Type: application/json' \
//	    -header 'Authorization: Bearer KEY' -rate 20000 -duration 10s -conns 16 -warmup 2s
//
// The last line of the output is machine-readable, e.g.
//
//	RESULT rps=19999.8 p50_ms=0.122 p90_ms=0.308 p99_ms=2.280 p999_ms=6.096 max_ms=11.506
//	    svc_p50_ms=0.091 svc_p99_ms=0.857 svc_p999_ms=3.560 lag_p99_ms=0.162 lag_max_ms=4.370
//	    behind_ms=0.000 due=200000 sent=200000 completed=200000 unsent=0 warmup_completed=20000
//	    errors=0 non2xx=0 gen_cpu_us=27.70
//
// (on one line): rps is the answers to requests due in the measured period
// per second of it; p*_ms and max_ms the latency from the due time; svc_*
// the service time; lag_* the send lag; errors and non2xx include the
// warm-up; gen_cpu_us is the generator's own user+system CPU time per
// answer in the measured period.
//
// The exit status is 0 if every answer was 2xx and there was no error,
// 2 if there were errors or non-2xx answers (the results are still
// printed), 1 if the load could not be run at all.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	url      string
	method   string
	body     string
	headers  []string
	rate     float64       // requests per second, all connections together
	duration time.Duration // measured period, after the warm-up
	warmup   time.Duration // sent at the same rate, not counted
	conns    int
	timeout  time.Duration // wait at the end for answers still outstanding
	maxBody  int64
}

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	var cfg config
	var headers headerFlags
	flag.StringVar(&cfg.url, "url", "", "target `URL` (http only)")
	flag.StringVar(&cfg.method, "method", "GET", "request method")
	flag.StringVar(&cfg.body, "body", "", "request body")
	flag.Var(&headers, "header", "request header `'Name: value'` (repeatable)")
	flag.Float64Var(&cfg.rate, "rate", 1000, "requests per second, all connections together")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured period")
	flag.DurationVar(&cfg.warmup, "warmup", time.Second, "period at the same rate before the measured one, not counted")
	flag.IntVar(&cfg.conns, "conns", 16, "connections, each sending rate/conns requests per second")
	flag.DurationVar(&cfg.timeout, "timeout", 2*time.Second, "how long to wait at the end for answers still outstanding")
	flag.Int64Var(&cfg.maxBody, "maxbody", 1<<20, "largest answer body accepted, in bytes")
	flag.Parse()
	cfg.headers = headers
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "loadgen: unexpected arguments %q\n", flag.Args())
		os.Exit(1)
	}
	// The event loop blocks in epoll_pwait2 as a system call. With a single
	// P, the runtime would hand that P to another thread after 20 µs of
	// every wait (and wake threads to do so); with a second, idle P it
	// leaves it alone.
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	res, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	res.report(os.Stdout)
	if res.errors+res.warmErrors > 0 || res.non2xx+res.warmNon2xx > 0 {
		os.Exit(2)
	}
}

// target is the address to dial and the request to send, prebuilt.
type target struct {
	addr   string
	req    []byte
	noBody bool // HEAD: answers have no body
}

func buildTarget(cfg config) (target, error) {
	var t target
	u, err := url.Parse(cfg.url)
	switch {
	case err != nil:
		return t, err
	case u.Scheme != "http":
		return t, fmt.Errorf("-url %q: only http:// URLs are supported", cfg.url)
	case u.Host == "":
		return t, fmt.Errorf("-url %q: no host", cfg.url)
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	t.addr = net.JoinHostPort(u.Hostname(), port)
	method := strings.ToUpper(cfg.method)
	for _, c := range []byte(method) {
		if !isTokenChar(c) {
			return t, fmt.Errorf("-method %q: not a method name", cfg.method)
		}
	}
	t.noBody = method == "HEAD"
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, u.RequestURI())
	hasHost, hasLength := false, false
	for _, h := range cfg.headers {
		name, value, ok := strings.Cut(h, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || strings.ContainsAny(h, "\r\n") || strings.ContainsFunc(name, func(r rune) bool { return r > 0x7f || !isTokenChar(byte(r)) }) {
			return t, fmt.Errorf("-header %q: want 'Name: value'", h)
		}
		switch strings.ToLower(name) {
		case "host":
			hasHost = true
		case "content-length":
			hasLength = true
		case "transfer-encoding":
			return t, fmt.Errorf("-header %q: the request body is always sent with a Content-Length", h)
		}
		fmt.Fprintf(&b, "%s: %s\r\n", name, value)
	}
	if !hasHost {
		fmt.Fprintf(&b, "Host: %s\r\n", u.Host)
	}
	if !hasLength && (cfg.body != "" || method == "POST" || method == "PUT" || method == "PATCH") {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(cfg.body))
	}
	b.WriteString("\r\n")
	b.WriteString(cfg.body)
	t.req = []byte(b.String())
	return t, nil
}

// result is the outcome of a run: every count is of the measured period
// but the warm* ones.
type result struct {
	cfg                                        config
	scheduled, sent, completed, errors, non2xx int64
	warmSent, warmCompleted                    int64
	warmErrors, warmNon2xx                     int64
	reconnects, unsent                         int64
	waits                                      int64 // epoll waits, the whole run
	lat, svc, lag                              *hist
	behind                                     time.Duration
	elapsed                                    time.Duration // measured period, to the last answer if later
	cpu                                        time.Duration // the generator's user+system CPU time in it
	firstErr                                   error
	firstNon2xx                                int
}

func (cfg config) check() error {
	switch {
	case cfg.rate <= 0:
		return errors.New("-rate must be positive")
	case cfg.conns < 1:
		return errors.New("-conns must be at least 1")
	case cfg.duration <= 0:
		return errors.New("-duration must be positive")
	case cfg.warmup < 0:
		return errors.New("-warmup must not be negative")
	case cfg.timeout < 0:
		return errors.New("-timeout must not be negative")
	case cfg.maxBody < 0:
		return errors.New("-maxbody must not be negative")
	}
	return nil
}

// cpuTime returns the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (r *result) rps() float64 { return float64(r.completed) / r.elapsed.Seconds() }

// cpuPerRequest is the generator's CPU time per answered request, in µs.
func (r *result) cpuPerRequest() float64 {
	if r.completed == 0 {
		return 0
	}
	return float64(r.cpu) / float64(time.Microsecond) / float64(r.completed)
}

func ms(d time.Duration) string { return strconv.FormatFloat(d.Seconds()*1000, 'f', 3, 64) }

func (r *result) report(out io.Writer) {
	c := r.cfg
	fmt.Fprintf(out, "loadgen: %s %s at %g req/s for %v (after %v warm-up), %d connections\n",
		strings.ToUpper(c.method), c.url, c.rate, c.duration, c.warmup, c.conns)
	fmt.Fprintf(out, "  requests: %d due, %d sent, %d answered, %d non-2xx, %d errors, %d reconnects; %.1f req/s achieved\n",
		r.scheduled, r.sent, r.completed, r.non2xx, r.errors, r.reconnects, r.rps())
	if r.warmSent > 0 || r.warmErrors > 0 {
		fmt.Fprintf(out, "  warm-up (not counted): %d sent, %d answered, %d non-2xx, %d errors\n",
			r.warmSent, r.warmCompleted, r.warmNon2xx, r.warmErrors)
	}
	fmt.Fprintf(out, "  %-24s %8s %8s %8s %8s %8s\n", "ms", "p50", "p90", "p99", "p99.9", "max")
	for _, row := range []struct {
		name string
		h    *hist
	}{{"latency from due time", r.lat}, {"service time from send", r.svc}, {"send lag (generator)", r.lag}} {
		fmt.Fprintf(out, "  %-24s %8s %8s %8s %8s %8s\n", row.name, ms(row.h.quantile(0.5)), ms(row.h.quantile(0.9)),
			ms(row.h.quantile(0.99)), ms(row.h.quantile(0.999)), ms(row.h.max))
	}
	fmt.Fprintf(out, "  generator: behind at the end %s ms (%d requests not sent); %.2f µs CPU and %.2f wake-ups per request\n",
		ms(r.behind), r.unsent, r.cpuPerRequest(), float64(r.waits)/float64(max(r.sent+r.warmSent, 1)))
	if r.firstErr != nil {
		fmt.Fprintf(out, "  first error: %v\n", r.firstErr)
	}
	if r.firstNon2xx != 0 {
		fmt.Fprintf(out, "  first non-2xx status: %d\n", r.firstNon2xx)
	}
	fmt.Fprintf(out, "RESULT rps=%.1f p50_ms=%s p90_ms=%s p99_ms=%s p999_ms=%s max_ms=%s svc_p50_ms=%s svc_p99_ms=%s svc_p999_ms=%s"+
		" lag_p99_ms=%s lag_max_ms=%s behind_ms=%s due=%d sent=%d completed=%d unsent=%d warmup_completed=%d errors=%d non2xx=%d gen_cpu_us=%.2f\n",
		r.rps(), ms(r.lat.quantile(0.5)), ms(r.lat.quantile(0.9)), ms(r.lat.quantile(0.99)), ms(r.lat.quantile(0.999)), ms(r.lat.max),
		ms(r.svc.quantile(0.5)), ms(r.svc.quantile(0.99)), ms(r.svc.quantile(0.999)),
		ms(r.lag.quantile(0.99)), ms(r.lag.max), ms(r.behind), r.scheduled, r.sent, r.completed, r.unsent, r.warmCompleted,
		r.errors+r.warmErrors, r.non2xx+r.warmNon2xx, r.cpuPerRequest())
}

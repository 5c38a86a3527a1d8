// Package notify tells platforms that a verification ended, at the
// callback_url they gave to init. A notice is a hint without personal data
// ({"event", "certify_id", "user_id", "status"}); the platform confirms with
// POST /api/v1/auth/query, just as realname confirms Cloudauth's callback.
//
// Notices are queued and sent by a few workers with retries; Notify never
// blocks. Because the URL comes from outside, the dialer refuses private,
// link-local (cloud metadata), multicast and unspecified addresses after
// DNS resolution, and loopback unless allowed (development).
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/realname/realname/internal/realname"
)

// Config configures a Notifier.
type Config struct {
	AllowLoopback bool          // allow 127.0.0.0/8 and ::1 (development only)
	Attempts      int           // default 3
	Backoff       time.Duration // first retry delay, doubled each time; default 1 s
	Timeout       time.Duration // per attempt; default 5 s
	QueueSize     int           // default 1000; notices beyond it are dropped (and logged)
	Workers       int           // default 2
	Logger        *slog.Logger
	// Transport replaces the guarded transport (tests only).
	Transport http.RoundTripper
}

// Notifier sends notices in the background. Start it, then Close it.
type Notifier struct {
	cfg    Config
	client *http.Client
	queue  chan realname.Notice
	wg     sync.WaitGroup
	stop   chan struct{}
	log    *slog.Logger
}

// ErrForbiddenAddress reports a callback URL that resolves to an address
// realname must not call.
var ErrForbiddenAddress = errors.New("notify: address not allowed")

// New builds a Notifier.
func New(cfg Config) *Notifier {
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1000
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	tr := cfg.Transport
	if tr == nil {
		d := &net.Dialer{Timeout: cfg.Timeout, Control: guard(cfg.AllowLoopback)}
		tr = &http.Transport{DialContext: d.DialContext, TLSHandshakeTimeout: cfg.Timeout,
			ResponseHeaderTimeout: cfg.Timeout, MaxIdleConnsPerHost: 4, Proxy: nil}
	}
	return &Notifier{
		cfg: cfg, log: cfg.Logger, queue: make(chan realname.Notice, cfg.QueueSize), stop: make(chan struct{}),
		client: &http.Client{Transport: tr, Timeout: cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
}

// guard refuses addresses a callback must not reach.
func guard(allowLoopback bool) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip := net.ParseIP(host)
		switch {
		case ip == nil:
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, host)
		case ip.IsLoopback():
			if !allowLoopback {
				return fmt.Errorf("%w: loopback %s", ErrForbiddenAddress, ip)
			}
		case ip.IsPrivate(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsMulticast(),
			ip.IsUnspecified(), ip.IsInterfaceLocalMulticast(), inBlockedRange(ip):
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, ip)
		}
		return nil
	}
}

// blockedRanges are special-purpose ranges the net.IP predicates do not
// cover. 100.64.0.0/10 (carrier-grade NAT) holds Alibaba Cloud's ECS
// metadata service, 100.100.100.200, on the very cloud realname runs on.
var blockedRanges = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",      // "this network"
		"100.64.0.0/10",  // shared address space (CGN); Alibaba Cloud metadata
		"192.0.0.0/24",   // IETF protocol assignments
		"198.18.0.0/15",  // benchmarking
		"240.0.0.0/4",    // reserved, and broadcast
		"64:ff9b::/96",   // NAT64: maps onto any IPv4 address
		"64:ff9b:1::/48", // local-use NAT64
		"2002::/16",      // 6to4: embeds an IPv4 address
		"2001::/32",      // Teredo: embeds an IPv4 address
		"::ffff:0:0/96",  // IPv4-mapped (checked as IPv4 too, below)
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

func inBlockedRange(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return true
	}
	a = a.Unmap()
	for _, p := range blockedRanges {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Start runs the workers until Close.
func (n *Notifier) Start() {
	for range n.cfg.Workers {
		n.wg.Go(n.work)
	}
}

// Close stops the workers after the notice each is sending. Queued notices
// are dropped: they are hints, and platforms can query.
func (n *Notifier) Close() {
	close(n.stop)
	n.wg.Wait()
	if left := len(n.queue); left > 0 {
		n.log.Warn("notices dropped at shutdown", "count", left)
	}
}

// Notify queues a notice without blocking.
func (n *Notifier) Notify(_ context.Context, notice realname.Notice) {
	select {
	case n.queue <- notice:
	default:
		n.log.Warn("notice queue full; notice dropped", "certify_id", notice.CertifyID)
	}
}

func (n *Notifier) work() {
	for {
		select {
		case <-n.stop:
			return
		case notice := <-n.queue:
			n.deliver(notice)
		}
	}
}

// deliver posts one notice, retrying with backoff on errors and non-2xx.
func (n *Notifier) deliver(notice realname.Notice) {
	body, _ := json.Marshal(struct {
		Event     string `json:"event"`
		CertifyID string `json:"certify_id"`
		UserID    string `json:"user_id"`
		Status    string `json:"status"`
	}{"verification.finished", notice.CertifyID, notice.UserID, string(notice.Status)})
	delay := n.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err := n.post(notice.URL, body)
		if err == nil {
			return
		}
		if attempt >= n.cfg.Attempts || errors.Is(err, ErrForbiddenAddress) {
			n.log.Warn("platform notice not delivered", "certify_id", notice.CertifyID, "attempts", attempt, "err", err)
			return
		}
		select {
		case <-n.stop:
			return
		case <-time.After(delay):
		}
		delay *= 2
	}
}

func (n *Notifier) post(url string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "realname-notify/1")
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("platform answered %d", resp.StatusCode)
	}
	return nil
}

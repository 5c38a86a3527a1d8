package aliyun

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/cloudauth"

	"github.com/realname/realname/internal/realname"
)

// The business Codes every Cloudauth action shares (a string in an HTTP 200
// answer).
const (
	codeOK            = "200"
	codeInternalError = "500"
)

// prepareFunc points a fresh request at the configured endpoint with the
// per-attempt timeout. Every attempt MUST call it on its request.
type prepareFunc func(*requests.RpcRequest)

// attemptFunc performs one SDK call on a checked-out client. It builds a
// fresh request (the SDK mutates requests while signing them).
type attemptFunc[R any] func(c *cloudauth.Client, prepare prepareFunc) (R, error)

// outcome is what the goroutine running an attempt reports.
type outcome[R any] struct {
	resp R
	err  error
}

// call runs one Cloudauth action with the adapter's retry policy: attempts
// are retried on throttling, 5xx, network failures and the business Code
// "500", with exponential backoff and jitter; everything else is returned
// at once. code extracts the business Code of a decoded answer. A returned
// error always wraps one of the realname sentinels; a nil error means an
// HTTP 200 answer whose business Code is not "500" (the caller maps it).
func call[R any](ctx context.Context, p *Provider, action string, attempt attemptFunc[R], code func(R) string) (R, error) {
	var zero R
	attempts := p.cfg.MaxRetries + 1
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return zero, canceled(action, err)
		}
		start := time.Now()
		resp, err := attemptOnce(ctx, p, attempt)
		dur := time.Since(start)
		if ab, ok := err.(abandoned); ok {
			p.log.LogAttrs(ctx, slog.LevelInfo, "cloudauth call abandoned: context done",
				slog.String("action", action), slog.Int("attempt", n), slog.Duration("duration", dur))
			return zero, canceled(action, ab.cause)
		}
		var f failure
		if err != nil {
			f = classify(action, err)
		} else if c := code(resp); c == codeInternalError {
			f = failure{retry: true, err: unavailable(action, "business code 500")}
		} else {
			p.log.LogAttrs(ctx, slog.LevelDebug, "cloudauth call",
				slog.String("action", action), slog.Int("attempt", n),
				slog.String("code", c), slog.Duration("duration", dur))
			return resp, nil
		}
		attrs := []slog.Attr{
			slog.String("action", action), slog.Int("attempt", n),
			slog.Duration("duration", dur), slog.String("error", f.err.Error()),
		}
		if f.httpStatus != 0 {
			attrs = append(attrs, slog.Int("http_status", f.httpStatus), slog.String("code", f.code))
		}
		switch {
		case f.misconfig:
			p.log.LogAttrs(ctx, slog.LevelError,
				"cloudauth call refused: misconfiguration; check AccessKeyID/AccessKeySecret, RAM permissions and the clock", attrs...)
			return zero, f.err
		case !f.retry:
			p.log.LogAttrs(ctx, slog.LevelWarn, "cloudauth call failed", attrs...)
			return zero, f.err
		case n >= attempts:
			p.log.LogAttrs(ctx, slog.LevelWarn, "cloudauth call failed, no retries left", attrs...)
			return zero, fmt.Errorf("%w (after %d attempts)", f.err, n)
		}
		wait := p.backoff(n)
		p.log.LogAttrs(ctx, slog.LevelInfo, "cloudauth call failed, retrying",
			append(attrs, slog.Duration("backoff", wait))...)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return zero, canceled(action, ctx.Err())
		case <-t.C:
		}
	}
}

// attemptOnce checks out a client, runs attempt on it in a goroutine (the
// SDK has no context support) and waits for the result or ctx. If ctx ends
// first it returns ctx's error; the goroutine then finishes at the
// attempt's own timeout and puts the client back.
func attemptOnce[R any](ctx context.Context, p *Provider, attempt attemptFunc[R]) (R, error) {
	var zero R
	timeout := p.cfg.Timeout
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return zero, abandoned{context.DeadlineExceeded}
		}
		timeout = min(timeout, left)
	}
	c, err := p.acquire(ctx)
	if err != nil {
		return zero, abandoned{err}
	}
	prepare := func(r *requests.RpcRequest) {
		r.SetDomain(p.cfg.Endpoint)
		r.SetScheme(p.scheme)
		r.SetReadTimeout(timeout)
		r.SetConnectTimeout(timeout)
	}
	done := make(chan outcome[R], 1)
	go func() {
		defer p.release(c)
		defer func() {
			if v := recover(); v != nil {
				done <- outcome[R]{err: fmt.Errorf("SDK panic: %T", v)}
			}
		}()
		resp, err := attempt(c, prepare)
		done <- outcome[R]{resp: resp, err: err}
	}()
	select {
	case o := <-done:
		return o.resp, o.err
	case <-ctx.Done():
		return zero, abandoned{ctx.Err()}
	}
}

// abandoned is attemptOnce's error when ctx ended before the answer came.
type abandoned struct{ cause error }

func (a abandoned) Error() string { return a.cause.Error() }

// backoff is the delay before retry n (n ≥ 1): base·2^(n-1) capped, then
// "equal jitter" (half fixed, half random).
func (p *Provider) backoff(n int) time.Duration {
	d := p.backoffCap
	if n <= 30 {
		if e := p.backoffBase << (n - 1); e > 0 && e < d {
			d = e
		}
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// canceled reports an attempt given up because ctx ended.
func canceled(action string, cause error) error {
	return fmt.Errorf("%w: aliyun %s: %w", realname.ErrProviderUnavailable, action, cause)
}

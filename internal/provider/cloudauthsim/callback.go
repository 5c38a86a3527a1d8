package cloudauthsim

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// callbackAttempts is the first callback plus 2 retries.
const callbackAttempts = 3

// appendQuery adds extra to rawURL's query, keeping rawURL's text as it is
// and any fragment at the end: "?" if rawURL has no query yet, "&"
// otherwise.
func appendQuery(rawURL string, extra url.Values) string {
	base, frag, hasFrag := strings.Cut(rawURL, "#")
	sep := "?"
	if i := strings.IndexByte(base, '?'); i >= 0 {
		sep = "&"
		if i == len(base)-1 || strings.HasSuffix(base, "&") {
			sep = ""
		}
	}
	out := base + sep + extra.Encode()
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// callbackURL is the GET the real service sends when a verification ends:
// the merchant's CallbackUrl plus certifyId, passed (the SubCode) and
// callbackToken.
func callbackURL(ss session) string {
	return appendQuery(ss.callbackURL, url.Values{
		"certifyId":     {ss.certifyID},
		"passed":        {ss.verdict.subCode},
		"callbackToken": {ss.callbackToken},
	})
}

// startCallback delivers the callback of a finished session in the
// background, unless the simulator is closed.
func (s *Simulator) startCallback(ss session) {
	s.cbMu.Lock()
	if s.closed {
		s.cbMu.Unlock()
		s.log.Warn("cloudauthsim: closed, callback not sent", "certify_id", ss.certifyID)
		return
	}
	s.wg.Add(1)
	s.cbMu.Unlock()
	target := callbackURL(ss)
	go func() {
		defer s.wg.Done()
		s.deliverCallback(ss.certifyID, target)
	}()
}

// deliverCallback sends GET target at once and, while the answer is not
// HTTP 200, up to callbackAttempts-1 more times CallbackRetryDelay apart.
// target holds the callback token, so it is never logged.
func (s *Simulator) deliverCallback(certifyID, target string) {
	var lastStatus int
	var lastErr string
	for attempt := 1; attempt <= callbackAttempts; attempt++ {
		if attempt > 1 {
			t := time.NewTimer(s.cfg.CallbackRetryDelay)
			select {
			case <-s.cbCtx.Done():
				t.Stop()
				s.log.Warn("cloudauthsim: callback abandoned on close", "certify_id", certifyID, "attempts", attempt-1)
				return
			case <-t.C:
			}
		}
		status, err := s.callbackOnce(target)
		if err == nil && status == http.StatusOK {
			s.log.Debug("cloudauthsim: callback delivered", "certify_id", certifyID, "attempt", attempt)
			return
		}
		lastStatus, lastErr = status, ""
		if err != nil {
			lastErr = err.Error()
		}
		if attempt < callbackAttempts && s.cbCtx.Err() != nil {
			s.log.Warn("cloudauthsim: callback abandoned on close", "certify_id", certifyID, "attempts", attempt)
			return
		}
	}
	s.log.Warn("cloudauthsim: callback gave up", "certify_id", certifyID,
		"attempts", callbackAttempts, "last_status", lastStatus, "last_error", lastErr)
}

// callbackOnce sends one GET. Its error never contains the URL (which holds
// the callback token).
func (s *Simulator) callbackOnce(target string) (int, error) {
	req, err := http.NewRequestWithContext(s.cbCtx, http.MethodGet, target, nil)
	if err != nil {
		return 0, errors.New("invalid callback URL")
	}
	req.Header.Set("User-Agent", "cloudauthsim")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return 0, ue.Err
		}
		return 0, errors.New("callback request failed")
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

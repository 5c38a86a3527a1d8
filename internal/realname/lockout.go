package realname

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// checkLockout refuses a user who failed LockoutFailures verifications
// within LockoutWindow (failures before an operator's Unlock do not
// count: the store leaves them out). The answer says until when; RetryAfter carries it too.
func (s *Service) checkLockout(ctx context.Context, userID string, now time.Time) error {
	n := s.cfg.LockoutFailures
	if n < 0 {
		return nil
	}
	// A failure exactly one window old no longer counts.
	since := now.Add(-s.cfg.LockoutWindow + time.Microsecond)
	fails, err := s.store.FailuresSince(ctx, userID, since, 1000)
	if err != nil {
		return fmt.Errorf("lockout: %w", err)
	}
	if len(fails) < n {
		return nil
	}
	// The lock lifts when fewer than n failures remain in the window: when
	// the failure n-th from the newest leaves it.
	until := fails[len(fails)-n].Add(s.cfg.LockoutWindow)
	e := E(KindPermission, CodeUserLocked, "verification is locked after "+strconv.Itoa(len(fails))+
		" failed attempts within "+s.cfg.LockoutWindow.String()+"; try again after "+until.Format(time.RFC3339)+
		", or ask the platform's support to have it lifted", nil)
	e.RetryAfter = until.Sub(now)
	return e
}

// Unlock lifts a user's lockout: failures before now no longer count. The
// operator's action is recorded with its reason.
func (s *Service) Unlock(ctx context.Context, op Operator, userID string) error {
	if err := op.validate(); err != nil {
		return err
	}
	if !ValidUserID(userID) {
		return ErrBadUserID
	}
	now := s.clock()
	if err := s.store.Unlock(ctx, userID, now); err != nil {
		return err
	}
	return s.store.Audit(ctx, AuditEntry{At: now, ActorKind: ActorOperator, Actor: op.Name, Action: "user.unlock",
		Subject: userID, Reason: op.Reason})
}

// Operator is a person operating the service, acting through the admin API
// or the CLI. Every action names who and why.
type Operator struct {
	Name   string // who (1–64 characters, no control characters)
	Reason string // why (2–500 characters)
}

// ValidOperatorName reports whether name is an acceptable operator name:
// 1–64 characters of valid UTF-8 without control characters.
func ValidOperatorName(name string) bool { return ValidLabel(name, 1, 64) }

var errOperatorName = E(KindInvalid, CodeInvalidRequest, "the operator's name must be 1–64 printable characters", nil)

// validate checks the operator's name and reason.
func (o Operator) validate() error {
	if !ValidOperatorName(o.Name) {
		return errOperatorName
	}
	if !ValidLabel(o.Reason, 2, 500) {
		return E(KindInvalid, CodeReasonRequired, "state a reason (2–500 printable characters)", nil)
	}
	return nil
}

// ValidLabel reports whether s has min–max characters and no control
// characters or invalid UTF-8.
func ValidLabel(s string, min, max int) bool {
	n := 0
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd || r >= 0x80 && r < 0xa0 {
			return false
		}
		n++
	}
	return n >= min && n <= max
}

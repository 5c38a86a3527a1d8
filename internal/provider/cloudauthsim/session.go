package cloudauthsim

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// maxSessions bounds the in-memory session store; past it the oldest
// session is forgotten.
const maxSessions = 100_000

// finishedRetention is how long a session is remembered after its TTL, so
// that a late DescribeFaceVerify still finds the verdict.
const finishedRetention = 24 * time.Hour

type sessionState int

const (
	statePending sessionState = iota
	stateFinished
	stateCancelled
)

// verdict is the result of a finished verification.
type verdict struct {
	outcome      string // one of the Outcome constants
	passed       string // "T" or "F"
	subCode      string
	faceAttack   string // "T" or "F"
	verifyScore  float64
	qualityScore float64
}

// session is one verification. It holds no name, ID number or image: those
// are checked at InitFaceVerify/ContrastFaceVerify and then dropped.
type session struct {
	certifyID     string
	outerOrderNo  string
	sceneID       string
	callbackURL   string
	callbackToken string
	returnURL     string
	created       time.Time
	expires       time.Time // a pending session expires at this time
	state         sessionState
	verdict       verdict
	deleted       bool // DeleteFaceVerifyResult was called
}

// expired reports whether a pending session is past its TTL.
func (ss *session) expired(now time.Time) bool {
	return ss.state == statePending && !now.Before(ss.expires)
}

// sessionStore is the map of sessions, guarded by a mutex, bounded, and
// swept of old sessions on insert.
type sessionStore struct {
	mu        sync.Mutex
	byID      map[string]*session
	byOrder   map[string]string // OuterOrderNo → CertifyId (InitFaceVerify only)
	queue     []string          // CertifyIds in creation order
	head      int
	max       int
	retention time.Duration
}

func newSessionStore(max int, retention time.Duration) *sessionStore {
	return &sessionStore{
		byID:      make(map[string]*session),
		byOrder:   make(map[string]string),
		max:       max,
		retention: retention,
	}
}

// newCertifyID returns 32 random lower-case hex digits.
func newCertifyID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// isCertifyID reports whether id has the shape of a CertifyId.
func isCertifyID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// initSession returns the session of OuterOrderNo ss.outerOrderNo if there
// is one (idempotent InitFaceVerify), else stores ss under a new CertifyId.
func (st *sessionStore) initSession(ss session, now time.Time) session {
	st.mu.Lock()
	defer st.mu.Unlock()
	if id, ok := st.byOrder[ss.outerOrderNo]; ok {
		if old, ok := st.byID[id]; ok {
			return *old
		}
	}
	ss.certifyID = newCertifyID()
	st.insertLocked(&ss, now)
	st.byOrder[ss.outerOrderNo] = ss.certifyID
	return ss
}

// addFinished stores an already finished session (ContrastFaceVerify).
func (st *sessionStore) addFinished(ss session, now time.Time) session {
	st.mu.Lock()
	defer st.mu.Unlock()
	ss.certifyID = newCertifyID()
	ss.state = stateFinished
	st.insertLocked(&ss, now)
	return ss
}

func (st *sessionStore) insertLocked(ss *session, now time.Time) {
	for st.head < len(st.queue) {
		id := st.queue[st.head]
		old, ok := st.byID[id]
		if ok && now.Sub(old.created) < st.retention && len(st.byID) < st.max {
			break
		}
		if ok {
			delete(st.byID, id)
			if st.byOrder[old.outerOrderNo] == id {
				delete(st.byOrder, old.outerOrderNo)
			}
		}
		st.queue[st.head] = ""
		st.head++
	}
	if st.head > 1024 && st.head*2 > len(st.queue) {
		st.queue = append([]string(nil), st.queue[st.head:]...)
		st.head = 0
	}
	st.byID[ss.certifyID] = ss
	st.queue = append(st.queue, ss.certifyID)
}

// get returns a copy of the session.
func (st *sessionStore) get(id string) (session, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ss, ok := st.byID[id]
	if !ok {
		return session{}, false
	}
	return *ss, true
}

// finish moves a pending session to its final state. cancel marks it
// cancelled; otherwise v is its verdict.
func (st *sessionStore) finish(id string, v verdict, cancel bool, now time.Time) (session, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ss, ok := st.byID[id]
	if !ok {
		return session{}, ErrUnknownSession
	}
	switch {
	case ss.state != statePending:
		return *ss, ErrAlreadyFinished
	case ss.expired(now):
		return *ss, ErrSessionExpired
	}
	if cancel {
		ss.state = stateCancelled
	} else {
		ss.state = stateFinished
		ss.verdict = v
	}
	return *ss, nil
}

// markDeleted records DeleteFaceVerifyResult; it reports whether the
// session exists.
func (st *sessionStore) markDeleted(id string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	ss, ok := st.byID[id]
	if ok {
		ss.deleted = true
	}
	return ok
}

// len reports how many sessions are stored.
func (st *sessionStore) len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.byID)
}

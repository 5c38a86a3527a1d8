package realname

import (
	"context"
	"time"
)

// Person is one identity, kept only encrypted. Its data key (DEK) is wrapped
// by the key ring; destroying WrappedKey makes NameCT and NumberCT unreadable.
type Person struct {
	ID         string
	Index      []byte // keyed blind index of the normalised number
	KeyID      string // the key-ring key that wrapped WrappedKey
	WrappedKey []byte
	NameCT     []byte
	NumberCT   []byte
	CertType   string
	CreatedAt  time.Time
	// ErasedAt is set once the person was erased: WrappedKey, NameCT and
	// NumberCT are gone and Index is random. An erased person is never
	// written again.
	ErasedAt time.Time
}

// Erased reports whether the person's data key was destroyed.
func (p Person) Erased() bool { return !p.ErasedAt.IsZero() || len(p.WrappedKey) == 0 }

// Review is a manual review's own data (the session is a Verification
// whose Provider is ProviderManual).
type Review struct {
	CertifyID string
	// FilesCT is the submitted note and files, sealed with the person's data
	// key; nil once the review was decided or the files passed retention.
	FilesCT     []byte
	SubmittedAt time.Time
	DecidedAt   time.Time
	DecidedBy   string // the operator
	Decision    string // "approved" or "rejected"; "" while waiting
	Reason      string // the operator's reason
}

// AuditEntry is one line of the audit log: a read of decrypted personal
// data (Fields set) or an operator's action. Entries carry no personal data
// themselves.
type AuditEntry struct {
	ID        int64     `json:"id"` // set by the store, increasing
	At        time.Time `json:"at"`
	ActorKind string    `json:"actor_kind"`       // ActorPerson, ActorOperator, ActorPlatform or ActorSystem
	Actor     string    `json:"actor"`            // operator name, API key id, user id or job name
	Action    string    `json:"action"`           // e.g. "data.export", "review.view", "user.erase"
	Subject   string    `json:"subject"`          // the platform user id (a pseudonym after erasure)
	Target    string    `json:"target,omitempty"` // a certify id or person id, if any
	Fields    []string  `json:"fields,omitempty"` // the decrypted fields read (FieldName, FieldIDNumber, FieldDocuments)
	Masked    bool      `json:"masked"`           // only masked values were shown
	Reason    string    `json:"reason,omitempty"` // why (an operator's stated reason, or the legal basis)
}

// APIKey is a platform's credential. Only its hash is kept.
type APIKey struct {
	ID        string
	Name      string
	Hash      []byte // SHA-256 of the secret
	CreatedAt time.Time
	RevokedAt time.Time
}

// IdempotentAnswer is a stored answer to an Idempotency-Key.
type IdempotentAnswer struct {
	Scope       string // who asked (API key id)
	Key         string
	Fingerprint []byte // keyed hash of the request; a different request with the same key is refused
	CertifyID   string
	CreatedAt   time.Time
}

// Reader reads. All methods return ErrNotFound (wrapped) when nothing matches.
type Reader interface {
	Verification(ctx context.Context, certifyID string) (Verification, error)
	VerificationByProviderRef(ctx context.Context, provider, ref string) (Verification, error)
	// LatestVerification is the user's newest session.
	LatestVerification(ctx context.Context, userID string) (Verification, error)
	// OpenVerificationForUser is the user's newest pending or processing session.
	OpenVerificationForUser(ctx context.Context, userID string) (Verification, error)
	UserRecord(ctx context.Context, userID string) (UserRecord, error)
	// UserByPerson is the user bound to a person.
	UserByPerson(ctx context.Context, personID string) (UserRecord, error)
	Person(ctx context.Context, id string) (Person, error)
	PersonByIndex(ctx context.Context, index []byte) (Person, error)
	IdempotentAnswer(ctx context.Context, scope, key string) (IdempotentAnswer, error)
	// UserVerifications lists a user's sessions, newest first, at most limit.
	UserVerifications(ctx context.Context, userID string, limit int) ([]Verification, error)
	// Review reads a manual review by its session's certify id.
	Review(ctx context.Context, certifyID string) (Review, error)
	// FailuresSince lists the CompletedAt of the user's failed sessions
	// completed at or after since and after the user's last lockout lift
	// (Unlock), oldest first, at most limit.
	FailuresSince(ctx context.Context, userID string, since time.Time, limit int) ([]time.Time, error)
	// UnlockedAt is when an operator last lifted the user's lockout (the
	// zero time if never).
	UnlockedAt(ctx context.Context, userID string) (time.Time, error)
	// AuditFor lists the audit entries about a subject, oldest first, at
	// most limit.
	AuditFor(ctx context.Context, subject string, limit int) ([]AuditEntry, error)
}

// Tx is one storage transaction. Writes inside it commit together or not
// at all.
type Tx interface {
	Reader
	// LockVerification reads a session and holds it against concurrent
	// writers until the transaction ends.
	LockVerification(ctx context.Context, certifyID string) (Verification, error)
	InsertVerification(ctx context.Context, v Verification) error
	UpdateVerification(ctx context.Context, v Verification) error
	// InsertPerson MUST return ErrConflict if the index is taken.
	InsertPerson(ctx context.Context, p Person) error
	// UpdatePerson replaces a person's ciphertexts and wrapped key (by ID).
	UpdatePerson(ctx context.Context, p Person) error
	// PutUserRecord inserts or replaces the user's record. It MUST return
	// ErrConflict if another user is bound to the same person.
	PutUserRecord(ctx context.Context, u UserRecord) error
	DeleteUserRecord(ctx context.Context, userID string) error
	PutIdempotentAnswer(ctx context.Context, a IdempotentAnswer) error
	InsertReview(ctx context.Context, r Review) error
	// UpdateReview replaces a review's files and decision; ErrNotFound if
	// there is none.
	UpdateReview(ctx context.Context, r Review) error
	// ErasePerson destroys a person's wrapped key and ciphertexts, replaces
	// its index with newIndex and sets ErasedAt; ErrNotFound if there is no
	// such person. Erasing an erased person changes nothing.
	ErasePerson(ctx context.Context, id string, newIndex []byte, at time.Time) error
	// AnonymiseUser replaces userID by pseudonym in the user's sessions and
	// audit entries, clears what in those sessions pointed at the platform
	// (verify and notify URLs, the callback token's hash), and deletes the
	// user's record, lockout lift and idempotent answers.
	AnonymiseUser(ctx context.Context, userID, pseudonym string) error
	// Audit appends an entry to the audit log.
	Audit(ctx context.Context, e AuditEntry) error
}

// Store is the domain's storage. Implementations MUST be safe for concurrent
// use and MUST run Tx's function in one serialisable-enough transaction:
// LockVerification MUST block other writers of that session.
type Store interface {
	Reader
	// InTx runs fn in a transaction; it commits if fn returns nil.
	InTx(ctx context.Context, fn func(Tx) error) error
	// OpenVerifications lists pending/processing sessions last updated
	// before the given time, oldest first.
	OpenVerifications(ctx context.Context, updatedBefore time.Time, limit int) ([]Verification, error)
	// PendingProviderDeletions lists success, failed and expired sessions,
	// and sessions cancelled by an erasure or a withdrawal (FailReason
	// ERASED or CONSENT_WITHDRAWN), with a ProviderRef whose ResultDeleted
	// is false and whose CompletedAt is before the given time, oldest first.
	PendingProviderDeletions(ctx context.Context, completedBefore time.Time, limit int) ([]Verification, error)
	// MarkResultDeleted sets a session's ResultDeleted (one statement, no
	// transaction needed); ErrNotFound if there is no such session.
	MarkResultDeleted(ctx context.Context, certifyID string) error
	// CountOpenVerifications counts pending/processing sessions.
	CountOpenVerifications(ctx context.Context) (int, error)
	// ExpireVerifications moves success sessions and user records whose
	// ExpiresAt has passed to expired; it returns how many sessions moved.
	ExpireVerifications(ctx context.Context, now time.Time) (int, error)
	// Persons pages through persons ordered by ID, after the given ID.
	Persons(ctx context.Context, afterID string, limit int) ([]Person, error)
	// UpdatePersonKey replaces a person's wrapped key (key rotation).
	UpdatePersonKey(ctx context.Context, id, keyID string, wrapped []byte) error
	CreateAPIKey(ctx context.Context, k APIKey) error
	APIKeyByHash(ctx context.Context, hash []byte) (APIKey, error)
	// APIKeys lists every API key, revoked or not, oldest first.
	APIKeys(ctx context.Context) ([]APIKey, error)
	// RevokeAPIKey marks a key revoked (the first revocation time stays);
	// ErrNotFound if there is no such key.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	// Audit appends an entry to the audit log (outside a transaction).
	Audit(ctx context.Context, e AuditEntry) error
	// AuditLog pages through the whole audit log by ID, after afterID.
	AuditLog(ctx context.Context, afterID int64, limit int) ([]AuditEntry, error)
	// OpenReviews lists manual reviews waiting for a decision, oldest
	// first.
	OpenReviews(ctx context.Context, limit int) ([]Verification, error)
	// Unlock records that an operator lifted a user's lockout at at.
	Unlock(ctx context.Context, userID string, at time.Time) error
	// SpendBudget adds n paid calls to the provider's count for day, unless
	// the count would pass limit; it returns the count after the call and
	// whether the calls were allowed (a refused spend adds nothing).
	SpendBudget(ctx context.Context, provider, day string, n, limit int) (used int, ok bool, err error)
	// Retention queries (see realname.Retention).
	// ExpiredUserRecords lists records of users whose verification expired
	// before the given time.
	ExpiredUserRecords(ctx context.Context, expiredBefore time.Time, limit int) ([]UserRecord, error)
	// StalePersons lists the ids of persons not erased, bound to no user,
	// with no open session and no session completed at or after cutoff, and
	// created before cutoff.
	StalePersons(ctx context.Context, cutoff time.Time, limit int) ([]string, error)
	// StaleReviewFiles lists reviews that still hold files although their
	// session is finished.
	StaleReviewFiles(ctx context.Context, limit int) ([]string, error)
	// DeleteIdempotentAnswers deletes answers created before the given time.
	DeleteIdempotentAnswers(ctx context.Context, before time.Time) (int, error)
	// DeleteAudit deletes audit entries older than the given time.
	DeleteAudit(ctx context.Context, before time.Time) (int, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	Close() error
}

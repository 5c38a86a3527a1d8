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
	// PendingProviderDeletions lists success, failed and expired sessions
	// with a ProviderRef whose ResultDeleted is false and whose CompletedAt
	// is before the given time, oldest first.
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
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	Close() error
}

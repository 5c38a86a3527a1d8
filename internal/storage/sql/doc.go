// Package sqlstore is the SQL storage of the service: one implementation of
// realname.Store for two databases, SQLite (modernc.org/sqlite, pure Go) and
// PostgreSQL (pgx through database/sql).
//
// Open picks the dialect from the URL: postgres:// and postgresql:// URLs go
// to PostgreSQL; anything else is a SQLite file (a plain path, sqlite:PATH or
// a file: URI). Open never changes the schema; call Migrate for that. The
// migrations are embedded, numbered, recorded in schema_migrations and safe
// to run twice or from several processes at once.
//
// Queries are written once with ? placeholders and rebound to $1, $2, … for
// PostgreSQL. Both dialects behave the same:
//
//   - times are stored in UTC, truncated to microseconds (SQLite: INTEGER
//     unix microseconds; PostgreSQL: timestamptz); a zero time in a nullable
//     column (completed_at, expires_at, revoked_at) is NULL;
//   - empty byte slices are stored as NULL and read back as nil;
//   - a uniqueness violation is reported as realname.ErrConflict and a
//     missing row as realname.ErrNotFound, both wrapped;
//   - a write refused with ErrConflict inside InTx leaves the transaction
//     usable (PostgreSQL guards such statements with a savepoint), so the
//     caller may react to the conflict and still commit.
//
// Transactions: SQLite opens every transaction with BEGIN IMMEDIATE, so
// writers are serialised up front and never deadlock on a lock upgrade;
// PostgreSQL runs at READ COMMITTED and LockVerification uses SELECT … FOR
// UPDATE. On PostgreSQL, InTx reruns the whole function (up to three times in
// all) after a serialization failure or a deadlock, so the function must not
// have side effects outside the transaction.
//
// The Store is also the trail's storage (trail.Store, trail.go and
// trailtx.go; migrations 0005–0008). Its Sequence holds the sequencer lock —
// SQLite's write lock, taken by BEGIN IMMEDIATE, or a transaction-scoped
// PostgreSQL advisory lock — and is never retried. Appends write whole
// batches with a few statements (unnest arrays on PostgreSQL, prepared
// multi-row INSERTs on SQLite, parsed once per connection), and any
// transaction of the service can queue a trail event atomically with
// what it records (TrailEnqueue on the transaction).
package sqlstore

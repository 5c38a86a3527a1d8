// Package conformance is the test suite every realname.Store runs, in the
// style of dex's storage/conformance: a backend's test calls Run with a
// function that opens a fresh, empty, migrated store, and the suite checks
// the behaviour the domain relies on — round-trips of every field, the
// ErrNotFound and ErrConflict contracts, transactions, ordering, and
// concurrent writers.
//
// The fixtures fill every field of every record, and the suite fails if a
// field is left zero, so a field added to a domain record is not silently
// dropped by a backend: add it to the fixture and to the backends.
//
// Times are compared at microsecond precision (the precision PostgreSQL
// keeps); the suite writes nanosecond times in a non-UTC zone on purpose.
package conformance

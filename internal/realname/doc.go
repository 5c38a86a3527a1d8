// Package realname is the vocabulary and the rules of the service: a person's
// identity (name and document number, kept only encrypted), a verification
// session and its state machine, the provider that checks faces, and the
// Service that ties them together.
//
// A verification moves pending → processing → success | failed | cancelled;
// success becomes expired after the configured validity (365 days by default).
// Terminal states never move backwards and every transition happens inside one
// storage transaction. The provider's callback is only a hint: the result is
// always fetched again from the provider before a session is finished.
//
// The package depends on interfaces only: storage (Store), the provider
// (Provider and its optional capabilities), the answer cache (Cache) and a
// clock. It never imports net/http or database/sql; an architecture test
// enforces that. Errors carry a Kind (Invalid, NotFound, Conflict, …) and a
// machine code; only the HTTP layer turns kinds into statuses.
package realname

// Package authority serves authority institutions (notary offices,
// courts): their registration by an operator, the Ed25519 signatures that
// authenticate each of their requests, the bodies of those requests, and
// the evidence packages they fetch.
//
// An authority signs every request with its own Ed25519 key (Sign shows
// how) over a message that names its id and the deployment (Audience), so
// it is good for that authority at that deployment only; a key is
// registered under one id only (Register). The server checks the
// signature, the time stamp (±Window) and the
// nonce (each used once, remembered in the database so that replicas
// agree) before anything else (Verifier.Verify). What the requests do —
// deposit an identity verified in person, or ask for a person's evidence
// package — lives in the domain (realname.Service.Deposit,
// realname.Service.AuthorityRequest); the HTTP handlers are in httpapi.
// docs/authority.md is the institution's guide.
package authority

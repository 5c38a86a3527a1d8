// Package pii protects the sensitive personal information the service
// stores (PRC resident ID numbers and names, "sensitive personal
// information" under PIPL) with envelope encryption, crypto-shredding and a
// blind index.
//
// Every person gets their own random DataKey (AES-256-GCM). All of that
// person's fields are sealed with it, each with additional data naming where
// the ciphertext lives, so ciphertexts cannot be swapped between rows or
// columns. The DataKey is stored only wrapped by a key-encryption key from a
// KeyRing (KeyRing.WrapKey), bound to a context such as "person/<id>".
// Deleting a person's wrapped key is crypto-shredding: every ciphertext
// sealed with their DataKey, including copies in database backups, becomes
// permanently unreadable, which makes erasure requests enforceable without
// rewriting backups. Key-encryption keys rotate (Rotate) without re-encrypting
// data: old keys stay in the ring so old wraps still unwrap, and
// KeyRing.NeedsRewrap/Rewrap migrate wrapped keys to the new primary, after
// which an old key can be retired. Because ciphertexts are randomised, the
// database cannot find "this ID number" by comparing ciphertexts; instead a
// BlindIndex stores HMAC-SHA256(index key, purpose, normalised value) next
// to the ciphertext for equality look-ups. MaskName masks names for display.
// Keys come from files (Load, Generate, Rotate; mode 0600, written
// atomically, never overwritten by Generate) or from the environment
// (LoadEnv). Secrets never appear in errors, fmt output or slog output.
//
// What this does not protect against: an attacker who obtains both the key
// material (key files, environment, or process memory) and the database can
// decrypt everything, and an attacker with the index key alone can recover
// ID numbers from blind indexes by enumeration, since ID numbers have little
// entropy. A compromised running service can decrypt whatever it can. The
// blind index reveals which rows share a value. Ciphertext length reveals
// plaintext length. Crypto-shredding only works if the wrapped key is really
// deleted everywhere it was copied (replicas, backups, logs) and no plaintext
// copy survives elsewhere. Zeroising key bytes (DataKey.Destroy, clearing
// decoded buffers) is best effort only: Go's garbage collector and runtime
// may keep copies, and AES key schedules inside crypto/cipher cannot be
// cleared. Each key-encryption key should wrap well under 2^32 keys (random
// 96-bit nonces); rotate long before that.
package pii

package pii

import "errors"

// Sentinel errors. Errors returned by this package wrap these and can be
// tested with errors.Is. No error returned by this package contains key
// material, plaintext, or any part of a secret; they may contain file paths
// and key ids, which are not secret.
var (
	// ErrDecrypt reports that a wrapped key or a ciphertext could not be
	// decrypted: it is malformed, too large, was tampered with, was bound to
	// a different context/AAD, or was encrypted under a different key. The
	// causes are deliberately not distinguished.
	ErrDecrypt = errors.New("pii: decryption failed")

	// ErrUnknownKey reports that a wrapped key names a key-encryption key
	// that is not in the key ring (for example, it was wrapped by a key that
	// has since been removed, or by another deployment's ring).
	ErrUnknownKey = errors.New("pii: unknown key id")

	// ErrNoKeys reports that key material is not configured: a key file does
	// not exist or an environment variable is unset.
	ErrNoKeys = errors.New("pii: no keys configured")

	// ErrKeysExist reports that Generate found an existing key file and
	// refused to overwrite it.
	ErrKeysExist = errors.New("pii: key files already exist")

	// ErrInsecureKeyFile reports that a key file is readable or writable by
	// group or others, or is not a regular file.
	ErrInsecureKeyFile = errors.New("pii: key file is not private")

	// ErrTooLarge reports that a plaintext passed to DataKey.Seal exceeds
	// MaxPlaintextSize.
	ErrTooLarge = errors.New("pii: input too large")
)

// Package idnum parses, normalises, validates, describes and masks the
// identity document numbers and personal names used for real-name
// verification of people in the People's Republic of China.
//
// It knows the resident identity card (居民身份证, GB 11643-1999, including
// the legacy 15-digit number), the residence permit for Hong Kong, Macao and
// Taiwan residents (港澳台居民居住证), both formats of the foreign permanent
// residence ID card (外国人永久居留身份证), the travel permits for Hong Kong,
// Macao and Taiwan residents and the PRC ordinary passport. Numbers with a
// check character (ISO 7064 MOD 11-2) are verified; the others get a format
// check only.
//
// Everything here is a pure function without I/O. The current time is always
// passed in, so results are reproducible.
//
// A parsed [Number] or [Name] never prints its full value: String, GoString
// and LogValue (log/slog) return the masked form, and only Value returns the
// full text. Error messages never contain the input either.
package idnum

// Package cli holds realname's sub-commands: serve, migrate, apikey,
// keys, review, user, retention, audit, trail, cloudauth-sim. Each reads
// the same configuration as serve (flags, then env, then the optional YAML
// file) and reports problems on stderr with a non-zero exit; trail verify
// alone reads none, since it checks an evidence package offline.
package cli

// Package witnesstest is a local stand-in for a transparency log witness
// (https://c2sp.org/tlog-witness): an http.Handler that serves
// add-checkpoint for the logs it is configured with, checks their
// signatures and consistency proofs, refuses rollbacks and forks, and
// cosigns (https://c2sp.org/tlog-cosignature) with a trail.Cosigner.
//
// It exists so that trail's witness client is tested against the protocol
// rather than against itself. It keeps its state in memory and is not a
// witness to run in production: a real one is operated by someone other
// than the log's operator, which is the point of a witness.
package witnesstest

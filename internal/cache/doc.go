// Package cache keeps short-lived answers for the hot path behind one small
// interface (realname.Cache). Memory is the in-process implementation used
// by a single replica; a shared implementation for several replicas comes
// with the scale-out work. Package cachetest holds the suite every
// implementation must pass.
package cache

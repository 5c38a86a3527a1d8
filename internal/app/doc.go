// Package app wires realname together from a config.Config: storage, keys,
// the provider (the Cloudauth simulator behind the real adapter in sandbox
// mode), the domain service, the HTTP API, the poller; it runs them and
// shuts them down cleanly. It holds no logic of its own beyond choosing
// implementations.
package app

// Package config holds realname's one Config struct and loads it in three
// layers: an optional YAML file (--config), then environment variables, then
// command-line flags; each later layer overrides the earlier. Validate
// reports every problem at once so an operator fixes a bad deployment in one
// go.
package config

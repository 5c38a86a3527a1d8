// Package testenv switches tests of external parts (PostgreSQL, Redis, a
// browser) on and off from the environment, the same way everywhere.
package testenv

import (
	"os"
	"strings"
	"testing"
)

// RequireEnv is the environment variable that turns skips into failures:
// "all", or a comma-separated list of parts such as "postgres".
const RequireEnv = "REALNAME_TEST_REQUIRE"

// RequireOrSkip returns the value of envVar. If it is empty the test is
// skipped — unless REALNAME_TEST_REQUIRE is "all" or lists part, in which
// case the test fails, so CI cannot pass by silently skipping a backend.
func RequireOrSkip(t *testing.T, envVar, part string) string {
	t.Helper()
	if v := os.Getenv(envVar); v != "" {
		return v
	}
	req := os.Getenv(RequireEnv)
	for p := range strings.SplitSeq(req, ",") {
		if p = strings.TrimSpace(p); p == "all" || p == part {
			t.Fatalf("%s is not set, but %s=%q requires %s", envVar, RequireEnv, req, part)
		}
	}
	t.Skipf("%s is not set; skipping %s", envVar, part)
	return ""
}

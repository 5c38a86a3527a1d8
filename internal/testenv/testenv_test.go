package testenv_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/realname/realname/internal/testenv"
)

const helperEnv = "REALNAME_TESTENV_HELPER"

func TestRequireOrSkip(t *testing.T) {
	if os.Getenv(helperEnv) == "1" {
		v := testenv.RequireOrSkip(t, "REALNAME_TESTENV_PROBE", "postgres")
		t.Logf("value=%s", v)
		return
	}
	for _, c := range []struct {
		probe, require string
		want           string // "PASS", "SKIP" or "FAIL"
	}{
		{probe: "postgres://x", want: "PASS"},
		{probe: "postgres://x", require: "all", want: "PASS"},
		{want: "SKIP"},
		{require: "sqlite,redis", want: "SKIP"},
		{require: "all", want: "FAIL"},
		{require: "redis, postgres", want: "FAIL"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRequireOrSkip$", "-test.v")
		cmd.Env = append(os.Environ(), helperEnv+"=1",
			"REALNAME_TESTENV_PROBE="+c.probe, testenv.RequireEnv+"="+c.require)
		out, err := cmd.CombinedOutput()
		got := "PASS"
		switch {
		case err != nil:
			got = "FAIL"
		case strings.Contains(string(out), "--- SKIP"):
			got = "SKIP"
		}
		if got != c.want {
			t.Errorf("probe %q, require %q: %s, want %s\n%s", c.probe, c.require, got, c.want, out)
		}
		if got == "PASS" && !strings.Contains(string(out), "value="+c.probe) {
			t.Errorf("probe %q: value not returned\n%s", c.probe, out)
		}
	}
}

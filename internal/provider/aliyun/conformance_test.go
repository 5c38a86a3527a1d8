package aliyun

import (
	"testing"

	"github.com/realname/realname/internal/provider/cloudauthsim"
	"github.com/realname/realname/internal/provider/providertest"
)

// TestConformance runs the provider suite against the simulator mounted
// under a path prefix over plain http on loopback.
func TestConformance(t *testing.T) {
	env := newSimEnv(t)
	p := env.provider(t, env.config())
	providertest.Run(t, providertest.Harness{
		Provider:        p,
		Complete:        env.sim.Complete,
		MismatchName:    cloudauthsim.SandboxNameMismatch,
		NoRecordName:    cloudauthsim.SandboxNameNoRecord,
		MismatchPicture: []byte("\xff\xd8\xff\xe0" + cloudauthsim.SandboxMarkerMismatch + "\xff\xd9"),
	})
	// Nothing personal or secret reached the logs.
	assertNoSecrets(t, "logs", env.logs.String(), testSecret, providertest.DefaultName,
		providertest.DefaultNumber, cloudauthsim.SandboxNameMismatch, cloudauthsim.SandboxNameNoRecord)
	if t.Failed() {
		t.Logf("logs:\n%s", env.logs.String())
	}
}

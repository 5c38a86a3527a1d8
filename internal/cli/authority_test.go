package cli_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestAuthorityAddListRevoke(t *testing.T) {
	dir := t.TempDir()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	b64 := base64.StdEncoding.EncodeToString(pub)
	code, out, errOut := run(t, nil, "authority", "add", "--name", "北京市长安公证处", "--key", b64, "--operator", "alice", "--data", dir)
	id := strings.TrimSpace(out)
	if code != 0 || !regexp.MustCompile(`^au[0-9a-f]{30}$`).MatchString(id) {
		t.Fatalf("authority add: %d %q %q", code, out, errOut)
	}
	// A DER public key (what openssl prints) works too.
	pub2, _, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(pub2)
	code, _, errOut = run(t, nil, "authority", "add", "--name", "DER key", "--key", base64.StdEncoding.EncodeToString(der), "--operator", "alice", "--data", dir)
	if code != 0 {
		t.Fatalf("authority add with a DER key: %d %q", code, errOut)
	}
	// A key registered already is refused, in either form, naming the
	// authority that has it.
	derOfFirst, _ := x509.MarshalPKIXPublicKey(pub)
	for _, k := range []string{b64, base64.StdEncoding.EncodeToString(derOfFirst)} {
		code, out, errOut = run(t, nil, "authority", "add", "--name", "第二个名字", "--key", k, "--operator", "alice", "--data", dir)
		if code != 1 || out != "" || !strings.Contains(errOut, "registered already") || !strings.Contains(errOut, id) {
			t.Fatalf("authority add with a registered key: %d %q %q", code, out, errOut)
		}
	}
	keyFile := filepath.Join(t.TempDir(), "court.pem")
	code, out, errOut = run(t, nil, "authority", "add", "--name", "某某人民法院", "--generate", keyFile, "--operator", "alice", "--data", dir)
	if code != 0 {
		t.Fatalf("authority add --generate: %d %q", code, errOut)
	}
	genID := strings.TrimSpace(out)
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("generated key file: %v %v", fi, err)
	}
	raw, _ := os.ReadFile(keyFile)
	blk, _ := pem.Decode(raw)
	if blk == nil {
		t.Fatal("the generated key is not PEM")
	}
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err != nil {
		t.Fatal(err)
	} else if _, ok := k.(ed25519.PrivateKey); !ok {
		t.Fatalf("generated key is %T", k)
	}

	code, out, _ = run(t, nil, "authority", "list", "--data", dir)
	if code != 0 || !regexp.MustCompile(id+`\s+北京市长安公证处\s+\S+Z\s+alice\s+-\s+`+regexp.QuoteMeta(b64)).MatchString(out) ||
		!strings.Contains(out, genID) {
		t.Fatalf("authority list: %d %q", code, out)
	}
	code, out, errOut = run(t, nil, "authority", "revoke", id, "--operator", "bob", "--data", dir)
	if code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("authority revoke: %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, nil, "authority", "list", "--data", dir)
	if code != 0 || !regexp.MustCompile(id+`\s+北京市长安公证处\s+\S+Z\s+alice\s+\S+Z`).MatchString(out) {
		t.Fatalf("authority list after revoke: %d %q", code, out)
	}
	// Revoked, its key stays taken.
	code, _, errOut = run(t, nil, "authority", "add", "--name", "北京市长安公证处", "--key", b64, "--operator", "alice", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "registered already") || !strings.Contains(errOut, "revoked") {
		t.Fatalf("authority add with a revoked authority's key: %d %q", code, errOut)
	}
	code, out, _ = run(t, nil, "audit", "--data", dir)
	if code != 0 || !strings.Contains(out, "authority.add") || !strings.Contains(out, "authority.revoke") || !strings.Contains(out, "bob") {
		t.Fatalf("audit: %d %q", code, out)
	}
	for _, bad := range [][]string{
		{"authority", "add", "--name", "x y", "--operator", "a", "--data", dir},
		{"authority", "add", "--name", "both", "--key", b64, "--generate", keyFile + "2", "--operator", "a", "--data", dir},
		{"authority", "add", "--name", "bad key", "--key", "AAAA", "--operator", "a", "--data", dir},
		{"authority", "add", "--name", "exists", "--generate", keyFile, "--operator", "a", "--data", dir},
		{"authority", "revoke", "au000000000000000000000000000000", "--operator", "a", "--data", dir},
		{"authority", "revoke", "--operator", "a"},
		{"authority"},
		{"authority", "delete", "x"},
	} {
		if code, _, errOut := run(t, nil, bad...); code != 1 || errOut == "" {
			t.Errorf("%q: %d %q", bad, code, errOut)
		}
	}
}

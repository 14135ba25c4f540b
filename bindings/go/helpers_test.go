package oidc

import (
	"bufio"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// repoRoot is the liboidc checkout this binding lives in.
const repoRoot = "../.."

// ---- shared vectors -------------------------------------------------------------------------

type vectorFile struct {
	Config struct {
		Algorithms     string   `json:"algorithms"`
		Audiences      []string `json:"audiences"`
		ExpectedTyp    string   `json:"expected_typ"`
		Issuer         string   `json:"issuer"`
		LeewaySecs     int      `json:"leeway_secs"`
		MaxTokenBytes  int      `json:"max_token_bytes"`
		RequiredClaims []string `json:"required_claims"`
	} `json:"config"`
	JWKS  json.RawMessage `json:"jwks"`
	Now   int64           `json:"now"`
	Cases []struct {
		Name   string `json:"name"`
		Token  string `json:"token"`
		Code   int    `json:"code"`
		Expect string `json:"expect"`
	} `json:"cases"`
}

func loadVectors(t testing.TB) *vectorFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "tests/vectors/validation.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// vectorConfig is the vectors' client configuration in Go terms.
func (v *vectorFile) config() Config {
	return Config{
		Issuer:         v.Config.Issuer,
		Audiences:      v.Config.Audiences,
		Algorithms:     strings.Split(v.Config.Algorithms, ","),
		Leeway:         time.Duration(v.Config.LeewaySecs) * time.Second,
		RequiredClaims: v.Config.RequiredClaims,
		ExpectedTyp:    v.Config.ExpectedTyp,
		MaxTokenBytes:  v.Config.MaxTokenBytes,
		JWKSJSON:       v.JWKS,
	}
}

func vectorClient(t testing.TB) (*Client, *vectorFile) {
	t.Helper()
	v := loadVectors(t)
	c, err := NewClient(v.config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, v
}

// ---- a Go-side token signer (self-contained tests with current timestamps) ------------------

type testKey struct {
	alg  string
	kid  string
	priv crypto.Signer
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func newTestKey(t testing.TB, alg string) *testKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{alg: alg, kid: strings.ToLower(alg) + "-go", priv: priv}
}

func (k *testKey) jwk() map[string]any {
	m := map[string]any{"kid": k.kid, "alg": k.alg, "use": "sig"}
	switch p := k.priv.Public().(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64(p.N.Bytes()), b64(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		m["kty"], m["crv"] = "EC", "P-256"
		m["x"], m["y"] = b64(p.X.FillBytes(make([]byte, 32))), b64(p.Y.FillBytes(make([]byte, 32)))
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64(p)
	}
	return m
}

func jwksOf(keys ...*testKey) []byte {
	var ks []map[string]any
	for _, k := range keys {
		ks = append(ks, k.jwk())
	}
	b, _ := json.Marshal(map[string]any{"keys": ks})
	return b
}

func (k *testKey) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	return k.signHeader(t, map[string]any{"alg": k.alg, "kid": k.kid, "typ": "at+jwt"}, claims)
}

const testIssuer = "https://issuer.go.test"

// standardClaims are valid claims for testIssuer / aud "api://go" as of now.
func standardClaims(sub, scope string) map[string]any {
	now := time.Now().Unix()
	m := map[string]any{"iss": testIssuer, "aud": "api://go", "sub": sub, "iat": now, "nbf": now,
		"exp": now + 600, "jti": "j-" + sub, "client_id": "svc"}
	if scope != "" {
		m["scope"] = scope
	}
	return m
}

// staticClient is a Client over a static JWKS of the given keys.
func staticClient(t testing.TB, realm string, keys ...*testKey) *Client {
	t.Helper()
	c, err := NewClient(Config{Issuer: testIssuer, Audiences: []string{"api://go"}, ExpectedTyp: "at+jwt",
		JWKSJSON: jwksOf(keys...), Realm: realm})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ---- external servers: oidc-testkit and the oidc-provider IdP -------------------------------

// requireE2E is set by test.sh: a missing testkit binary then fails instead of skipping.
func requireE2E() bool { return os.Getenv("OIDC_REQUIRE_E2E") == "1" }

type server struct {
	Issuer       string            `json:"issuer"`
	CAFile       string            `json:"ca_file"`
	WrongCAFile  string            `json:"wrong_ca_file"`
	Admin        string            `json:"admin"`
	JWKSURI      string            `json:"jwks_uri"`
	TokenURL     string            `json:"token_endpoint"`
	Kids         map[string]string `json:"kids"`
	Dir          string            `json:"dir"`
	cmd          *exec.Cmd
	stdin        io.WriteCloser
	stderrOutput *strings.Builder
}

func (s *server) stop() {
	s.stdin.Close() // both servers exit on stdin EOF
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

func startServer(name string, args ...string) (*server, error) {
	cmd := exec.Command(name, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &lockedWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, stdin: stdin, stderrOutput: &stderr}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			s.stop()
			return nil, fmt.Errorf("%s exited without a ready line; stderr: %s", name, stderr.String())
		}
		if err := json.Unmarshal([]byte(line), s); err != nil {
			s.stop()
			return nil, fmt.Errorf("%s ready line %q: %v", name, line, err)
		}
		return s, nil
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, fmt.Errorf("%s printed no ready line within 60 s", name)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// testkitBinary finds oidc-testkit: $OIDC_TESTKIT, else the usual cargo target dirs.
func testkitBinary() string {
	if p := os.Getenv("OIDC_TESTKIT"); p != "" {
		return p
	}
	var dirs []string
	if d := os.Getenv("CARGO_TARGET_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	dirs = append(dirs, filepath.Join(repoRoot, "target"))
	for _, d := range dirs {
		for _, prof := range []string{"release", "debug"} {
			p := filepath.Join(d, prof, "oidc-testkit")
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p
			}
		}
	}
	return ""
}

// startTestkit starts a fresh oidc-testkit for one test (stopped at cleanup). Without the
// binary the test is skipped, unless OIDC_REQUIRE_E2E=1 (test.sh) makes that a failure.
func startTestkit(t *testing.T) *server {
	t.Helper()
	bin := testkitBinary()
	if bin == "" {
		msg := "oidc-testkit binary not found: set OIDC_TESTKIT or build it with " +
			"`cargo build -p oidc-testkit --release --bin oidc-testkit` (test.sh does)"
		if requireE2E() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	s, err := startServer(bin, "--dir", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s
}

// admin calls the testkit's admin API and returns the body.
func (s *server) admin(t testing.TB, method, pathAndQuery string) string {
	t.Helper()
	req, _ := http.NewRequest(method, s.Admin+pathAndQuery, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, pathAndQuery, resp.StatusCode, b)
	}
	return string(b)
}

// token asks the testkit for a signed token.
func (s *server) token(t testing.TB, q url.Values) string {
	t.Helper()
	return s.admin(t, "GET", "/token?"+q.Encode())
}

func (s *server) hits(t testing.TB, path string) int {
	t.Helper()
	var m map[string]int
	if err := json.Unmarshal([]byte(s.admin(t, "GET", "/stats")), &m); err != nil {
		t.Fatal(err)
	}
	return m[path]
}

var (
	idpOnce sync.Once
	idpSrv  *server
	idpErr  error
	idpDir  string
)

// nodeMissing says why IdP tests cannot run ("" when node is on PATH).
func nodeMissing() string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not on PATH, so the oidc-provider IdP (tests/idp/server.mjs) cannot run: " + err.Error()
	}
	return ""
}

// sharedIdP starts tests/idp/server.mjs once per test binary (stopped by TestMain). Skips only
// when node is absent; any other problem fails.
func sharedIdP(t testing.TB) *server {
	t.Helper()
	if why := nodeMissing(); why != "" {
		fmt.Println("SKIP reason:", why)
		t.Skip(why)
	}
	idpOnce.Do(func() {
		idpSrv, idpErr = startIdP()
	})
	if idpErr != nil {
		t.Fatal("the test IdP did not start:", idpErr)
	}
	return idpSrv
}

func startIdP() (*server, error) {
	script, _ := filepath.Abs(filepath.Join(repoRoot, "tests/idp/server.mjs"))
	if _, err := os.Stat(filepath.Join(repoRoot, "tests/idp/node_modules/oidc-provider")); err != nil {
		return nil, fmt.Errorf("tests/idp/node_modules is missing: run `npm ci` in tests/idp (%v)", err)
	}
	dir, err := os.MkdirTemp("", "oidc-go-idp-")
	if err != nil {
		return nil, err
	}
	idpDir = dir
	s, err := startServer("node", script, "--dir", dir)
	if err != nil {
		os.RemoveAll(dir)
		idpDir = ""
	}
	return s, err
}

func stopSharedIdP() {
	if idpSrv != nil {
		idpSrv.stop()
	}
	if idpDir != "" {
		os.RemoveAll(idpDir)
	}
}

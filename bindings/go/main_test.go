package oidc

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// The README examples (example_test.go) talk to the real IdP (tests/idp): TestMain starts it
// once and hands its coordinates to them as the environment variables the README uses.
// Without node they are skipped, and this says why.
var readmeExamples = []string{"ExampleClient_Validate", "ExampleMiddleware", "ExampleOAuthClient_ClientCredentials", "ExampleOAuthClient_NewRequest", "ExampleClient_ExportCache", "ExampleClient_Explain"}

// testkitExamples are README examples that run against an oidc-testkit TestMain starts
// (OIDC_TESTKIT_ISSUER, OIDC_TESTKIT_CA_FILE, and a logout token it minted in OIDC_LOGOUT_TOKEN).
// Without the binary they are skipped (test.sh always has one).
var testkitExamples = []string{"ExampleOAuthClient_ValidateLogoutToken"}

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv("OIDC_GO_WARM_SNAPSHOT") != "" { // TestWarmStartChild's fresh process: no IdP
		os.Exit(m.Run())
	}
	if err := startExampleTestkit(); err != nil { // stopped before exiting
		fmt.Println("SKIP reason: README examples on oidc-testkit:", err)
		skipTests(testkitExamples)
	}
	if why := nodeMissing(); why != "" {
		fmt.Println("SKIP reason: README examples and IdP tests:", why)
		skipExamples()
		os.Exit(run(m))
	}
	idpOnce.Do(func() { idpSrv, idpErr = startIdP() })
	if idpErr == nil {
		var token string
		if token, idpErr = fetchToken(idpSrv, "svc-basic", "svc-basic-secret", "urn:liboidc:rs256", "read write"); idpErr == nil {
			os.Setenv("OIDC_ISSUER", idpSrv.Issuer)
			os.Setenv("OIDC_CA_FILE", idpSrv.CAFile)
			os.Setenv("OIDC_CLIENT_SECRET", "svc-basic-secret")
			os.Setenv("OIDC_TOKEN", token)
		}
	}
	if idpErr != nil {
		// TestIdPStarted and every IdP test fail with idpErr; the other tests still run.
		skipExamples()
	}
	code := m.Run()
	stopSharedIdP()
	stopExampleTestkit()
	os.Exit(code)
}

// run is m.Run with the example testkit stopped before the process exits.
func run(m *testing.M) int {
	defer stopExampleTestkit()
	return m.Run()
}

// skipExamples leaves out the examples that need the IdP.
func skipExamples() { skipTests(readmeExamples) }

func skipTests(names []string) {
	skip := "^(" + strings.Join(names, "|") + ")$"
	if prev := flag.Lookup("test.skip").Value.String(); prev != "" {
		skip = prev + "|" + skip
	}
	flag.Set("test.skip", skip)
}

var exampleTestkit struct {
	srv *server
	dir string
}

// startExampleTestkit starts the oidc-testkit of testkitExamples and sets their environment.
func startExampleTestkit() error {
	bin := testkitBinary()
	if bin == "" {
		return fmt.Errorf("no oidc-testkit binary (set OIDC_TESTKIT)")
	}
	dir, err := os.MkdirTemp("", "oidc-go-testkit-")
	if err != nil {
		return err
	}
	s, err := startServer(bin, "--dir", dir)
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	exampleTestkit.srv, exampleTestkit.dir = s, dir
	// A back-channel logout token for client "rp", signed by the testkit's RS256 key.
	q := url.Values{"alg": {"RS256"}, "aud": {"rp"}, "sub": {"alice"}, "typ": {"logout+jwt"}, "exp_in": {"600"},
		"claims": {`{"sid":"s-1","events":{"http://schemas.openid.net/event/backchannel-logout":{}}}`}}
	resp, err := http.Get(s.Admin + "/token?" + q.Encode())
	if err != nil {
		stopExampleTestkit()
		return err
	}
	defer resp.Body.Close()
	token, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		stopExampleTestkit()
		return fmt.Errorf("testkit /token: %d %s", resp.StatusCode, token)
	}
	os.Setenv("OIDC_TESTKIT_ISSUER", s.Issuer)
	os.Setenv("OIDC_TESTKIT_CA_FILE", s.CAFile)
	os.Setenv("OIDC_LOGOUT_TOKEN", string(token))
	return nil
}

func stopExampleTestkit() {
	if exampleTestkit.srv != nil {
		exampleTestkit.srv.stop()
		exampleTestkit.srv = nil
	}
	if exampleTestkit.dir != "" {
		os.RemoveAll(exampleTestkit.dir)
		exampleTestkit.dir = ""
	}
}

// TestIdPStarted fails when node is there but the IdP could not be started (the README
// examples are then left out, so this keeps the run from passing without them).
func TestIdPStarted(t *testing.T) {
	if why := nodeMissing(); why != "" {
		t.Skip(why)
	}
	if idpErr != nil {
		t.Fatal("the test IdP did not start, so the README examples did not run:", idpErr)
	}
}

// fetchToken gets a client-credentials token with plain net/http (independent of the binding).
func fetchToken(s *server, id, secret, resource, scope string) (string, error) {
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return "", err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {resource}, "scope": {scope}}
	req, _ := http.NewRequest("POST", s.Issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &t) != nil || t.AccessToken == "" {
		return "", fmt.Errorf("token endpoint: %d %s", resp.StatusCode, b)
	}
	return t.AccessToken, nil
}

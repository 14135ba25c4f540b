// Command coldstart-go is the anchor of benches/cold_start.rs: what a Go service using
// golang-jwt v5 + keyfunc v3 pays from its own start to the first successful validation
// against a loopback HTTPS issuer: discovery document, JWKS (keyfunc), then jwt.Parse with the
// issuer, audience, expiry and algorithm checks. The issuer's CA comes from a PEM file.
//
// Environment: OIDC_ISSUER, OIDC_CA_FILE, OIDC_TOKEN, OIDC_AUDIENCE. Prints one JSON line,
// {"main":NS,"done":NS}, CLOCK_MONOTONIC nanoseconds at main() and after the validation;
// the parent compares them with its own clock at spawn time.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

func mono() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "coldstart-go: %s: %v\n", what, err)
	os.Exit(1)
}

func main() {
	start := mono()
	issuer, aud := os.Getenv("OIDC_ISSUER"), os.Getenv("OIDC_AUDIENCE")
	pem, err := os.ReadFile(os.Getenv("OIDC_CA_FILE"))
	if err != nil {
		fail("CA file", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		fail("CA file", fmt.Errorf("no certificate"))
	}
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	resp, err := client.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		fail("discovery", err)
	}
	var md struct {
		Issuer  string `json:"issuer"`
		JwksURI string `json:"jwks_uri"`
	}
	err = json.NewDecoder(resp.Body).Decode(&md)
	resp.Body.Close()
	if err != nil || md.Issuer != issuer || md.JwksURI == "" {
		fail("discovery document", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{md.JwksURI}, keyfunc.Override{Client: client})
	if err != nil {
		fail("keyfunc", err)
	}
	_, err = jwt.Parse(os.Getenv("OIDC_TOKEN"), k.Keyfunc,
		jwt.WithIssuer(issuer), jwt.WithAudience(aud), jwt.WithExpirationRequired(),
		jwt.WithValidMethods([]string{"RS256", "PS256", "ES256", "EdDSA"}))
	if err != nil {
		fail("validation", err)
	}
	done := mono()
	fmt.Printf("{\"main\":%d,\"done\":%d}\n", start, done)
}

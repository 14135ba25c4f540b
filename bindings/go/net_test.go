package oidc

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The proxy setting reaches liboidc: a proxy that is not listening gives CodeProxy, named
// without its credentials (the proxy itself is tested against tinyproxy in the Rust and C suites).
func TestProxySetting(t *testing.T) {
	s := sharedIdP(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := NewOAuthClient(OAuthConfig{Issuer: s.Issuer, ClientID: "svc-basic", ClientSecret: "svc-basic-secret",
		CAFile: s.CAFile, Proxy: "http://user:pr0xyPass7f3e@" + addr, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.ClientCredentials(context.Background())
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != CodeProxy || !strings.Contains(oe.Message, "http://"+addr) ||
		strings.Contains(err.Error(), "pr0xyPass7f3e") {
		t.Fatalf("want CodeProxy naming http://%s without credentials, got %v", addr, err)
	}
	if _, err := NewClient(Config{Issuer: s.Issuer, Audiences: []string{"a"}, Proxy: "socks5://127.0.0.1:1"}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("malformed proxy: %v", err)
	}
}

// An mTLS client (RFC 8705 tls_client_auth) against the real IdP: the certificate reaches
// liboidc and the IdP binds the token to it.
func TestClientCertificate(t *testing.T) {
	s := sharedIdP(t)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(s.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c, err := NewOAuthClient(OAuthConfig{Issuer: s.Issuer, ClientID: "mtls-ca", AuthMethod: "tls_client_auth", CAFile: s.CAFile,
		ClientCertPEM: read("mtls-client.pem"), ClientKeyPEM: read("mtls-client.key"), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tok, err := c.ClientCredentials(context.Background(), WithResource("urn:liboidc:es256"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(tok.AccessToken, ".") != 2 {
		t.Fatalf("token: %v", tok)
	}
	_, err = NewOAuthClient(OAuthConfig{Issuer: s.Issuer, ClientID: "mtls-ca", AuthMethod: "tls_client_auth", CAFile: s.CAFile,
		ClientCertPEM: read("mtls-client.pem"), ClientKeyPEM: read("mtls-other.key")})
	if !errors.Is(err, ErrClientCert) {
		t.Fatalf("key/cert mismatch: %v", err)
	}
}

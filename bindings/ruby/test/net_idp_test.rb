# frozen_string_literal: true

require_relative "test_helper"
require "socket"

# The proxy and mTLS options reach liboidc (the proxy itself is tested against tinyproxy in the
# Rust and C suites): a proxy that is not listening is Oidc::Proxy naming it without its
# credentials; tls_client_auth with the IdP's test client certificate gets a token.
class NetIdpTest < Minitest::Test
  include TestSupport

  PASS = "pr0xyPass7f3e"

  def setup
    @idp = Idp.instance(self)
  end

  def test_proxy_not_listening
    port = TCPServer.open("127.0.0.1", 0) { |s| s.addr[1] }
    c = Oidc::OAuthClient.new(issuer: @idp.issuer, client_id: "svc-basic", client_secret: "svc-basic-secret",
                              ca_file: @idp.ca_file, proxy: "http://user:#{PASS}@127.0.0.1:#{port}")
    e = assert_raises(Oidc::Proxy) { c.client_credentials }
    assert_equal 208, e.code
    assert_includes e.message, "http://127.0.0.1:#{port}"
    refute_includes e.message, PASS
    refute_includes e.inspect, PASS
  ensure
    c&.close
  end

  def test_tls_client_auth
    dir = @idp.info.fetch("dir")
    pem = ->(n) { File.read(File.join(dir, n)) }
    c = Oidc::OAuthClient.new(issuer: @idp.issuer, client_id: "mtls-ca", auth_method: "tls_client_auth",
                              ca_file: @idp.ca_file, client_cert: pem["mtls-client.pem"], client_key: pem["mtls-client.key"])
    tok = c.client_credentials(resources: ["urn:liboidc:es256"])
    assert_equal 3, tok.access_token.count(".") + 1
    assert_raises(Oidc::ClientCert) do
      Oidc::OAuthClient.new(issuer: @idp.issuer, client_id: "mtls-ca", auth_method: "tls_client_auth",
                            ca_file: @idp.ca_file, client_cert: pem["mtls-client.pem"], client_key: pem["mtls-other.key"])
    end
  ensure
    c&.close
  end
end

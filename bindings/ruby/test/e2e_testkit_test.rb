# frozen_string_literal: true

require_relative "test_helper"

# Discovery and JWKS over TLS (test CA via ca_file) against the loopback fixture issuer.
class E2eTestkitTest < Minitest::Test
  include TestSupport

  def setup
    @tk = Testkit.instance(self)
    @client = Oidc::Client.new(issuer: @tk.issuer, audiences: "api://ruby", ca_file: @tk.ca_file,
                               expected_typ: "at+jwt")
  end

  def teardown
    @client&.close
  end

  def test_discovery_jwks_and_every_algorithm
    %w[RS256 PS256 ES256 EdDSA].each do |alg|
      claims = @client.validate(@tk.token(alg: alg, sub: "u-#{alg}", scope: "read write"))
      assert_equal "u-#{alg}", claims.subject, alg
      assert_equal @tk.issuer, claims.issuer
      assert_equal ["api://ruby"], claims.audiences
      assert_equal "read write", claims["scope"]
      assert_in_delta Time.now + 300, claims.expires_at, 30
    end
  end

  def test_keys_stay_cached
    token = @tk.token
    @client.validate(token)
    before = @tk.stats
    20.times { @client.validate(@tk.token(alg: "ES256")) }
    assert_equal before.slice("/jwks", "/.well-known/openid-configuration"),
                 @tk.stats.slice("/jwks", "/.well-known/openid-configuration"),
                 "warm validations never touch the network"
  end

  def test_prefetch_fetches_now
    uri = @tk.fresh_jwks_uri("prefetch")
    c = Oidc::Client.new(issuer: @tk.issuer, audiences: "api://ruby", ca_file: @tk.ca_file, jwks_uri: uri)
    before = @tk.stats.fetch("/jwks", 0)
    assert_same c, c.prefetch
    assert_equal before + 1, @tk.stats.fetch("/jwks", 0)
    c.validate(@tk.token)
    assert_equal before + 1, @tk.stats.fetch("/jwks", 0)
  ensure
    c&.close
  end

  def test_token_failures
    e = assert_raises(Oidc::TokenExpired) { @client.validate(@tk.token(exp_in: -600)) }
    assert_equal 401, e.http_status
    assert_match(/error="invalid_token"/, e.www_authenticate)
    assert_raises(Oidc::AudienceMismatch) { @client.validate(@tk.token(aud: "other")) }
    assert_raises(Oidc::IssuerMismatch) { @client.validate(@tk.token(iss: "https://evil.example")) }
    assert_raises(Oidc::TypeMismatch) { @client.validate(@tk.token(typ: "JWT")) }
    assert_raises(Oidc::UnknownKey) { @client.validate(@tk.token(kid: "nope-#{SecureRandom.hex(3)}")) }
    assert_raises(Oidc::TokenMalformed) { @client.validate("not-a-jwt") }
    assert_raises(Oidc::TokenMalformed) { @client.validate("\xff\xfe".b) }
    t = @client.validate_at(@tk.token(exp_in: -600, nbf_in: -1200, iat_in: -1200), Time.now - 900)
    assert_equal "test-user", t.subject
  end

  def test_untrusted_ca_is_a_tls_error_and_503
    c = Oidc::Client.new(issuer: @tk.issuer, audiences: "api://ruby", ca_file: @tk.wrong_ca_file,
                         jwks_uri: @tk.fresh_jwks_uri("tls"))
    e = assert_raises(Oidc::Tls) { c.validate(@tk.token) }
    assert_kind_of Oidc::NetworkError, e
    assert_equal 503, e.http_status
    assert_nil e.oauth_error
    assert_match(/\ABearer/, e.www_authenticate)
    refute_match(/invalid_token/, e.www_authenticate)
  ensure
    c&.close
  end

  def test_jwks_outage_is_503
    @tk.fault(path: "/jwks", mode: "500", count: 5)
    c = Oidc::Client.new(issuer: @tk.issuer, audiences: "api://ruby", ca_file: @tk.ca_file,
                         jwks_uri: @tk.fresh_jwks_uri("outage"))
    e = assert_raises(Oidc::NetworkError) { c.validate(@tk.token) }
    assert_equal Oidc::HttpStatus, e.class
    assert_equal 503, e.http_status
  ensure
    @tk.fault(path: "/jwks", mode: "ok")
    c&.close
  end

  def test_configuration_errors_at_build
    assert_raises(Oidc::InsecureUrl) { Oidc::Client.new(issuer: "http://idp.example", audiences: "a") }
    assert_raises(Oidc::InvalidConfig) { Oidc::Client.new(issuer: @tk.issuer) }
    assert_raises(Oidc::UnsupportedAlgorithm) do
      Oidc::Client.new(issuer: @tk.issuer, audiences: "a", algorithms: %w[RS256 HS256])
    end
    e = assert_raises(Oidc::CaFile) { Oidc::Client.new(issuer: @tk.issuer, audiences: "a", ca_file: "/nonexistent.pem") }
    assert_kind_of Oidc::ConfigError, e
    assert_raises(Oidc::JwksInvalid) { Oidc::Client.new(issuer: @tk.issuer, audiences: "a", jwks_json: "{}") }
    c = Oidc::Client.new(issuer: "http://127.0.0.1:9", audiences: "a", allow_http_loopback: true,
                         connect_timeout: 0.5, timeout: 1)
    assert_raises(Oidc::NetworkError) { c.validate(@tk.token) }
    c.close
  end
end

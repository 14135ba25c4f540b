# frozen_string_literal: true

require_relative "test_helper"
require "pp"

# Client credentials against the real oidc-provider (tests/idp), then the access token
# validated by Oidc::Client.
class OAuthIdpTest < Minitest::Test
  include TestSupport

  SECRET = "svc-basic-secret"

  def setup
    @idp = Idp.instance(self)
    @oauth = Oidc::OAuthClient.new(issuer: @idp.issuer, client_id: "svc-basic", client_secret: SECRET,
                                   ca_file: @idp.ca_file)
  end

  def teardown
    @oauth&.close
  end

  def test_client_credentials_then_validate
    tok = @oauth.client_credentials(scope: %w[read write], resources: ["urn:liboidc:rs256"])
    assert_kind_of Oidc::Token, tok
    assert_equal "Bearer", tok.token_type
    assert_equal 3, tok.access_token.count(".") + 1
    assert_includes 1..600, tok.expires_in
    assert_equal %w[read write], tok.scopes.sort
    assert_nil tok.refresh_token
    assert_equal tok.access_token, tok.raw["access_token"]
    refute tok.expired?

    v = Oidc::Client.new(issuer: @idp.issuer, audiences: "urn:liboidc:rs256", expected_typ: "at+jwt",
                         ca_file: @idp.ca_file)
    claims = v.validate(tok.access_token)
    assert_equal "svc-basic", claims.client_id
    assert_equal "svc-basic", claims.subject
    assert_equal %w[read write], claims["scope"].split(" ").sort
  ensure
    v&.close
  end

  def test_other_algorithms_and_post_auth
    post = Oidc::OAuthClient.new(issuer: @idp.issuer, client_id: "svc-post", client_secret: "svc-post-secret",
                                 auth_method: "client_secret_post", ca_file: @idp.ca_file)
    v = Oidc::Client.new(issuer: @idp.issuer, audiences: %w[urn:liboidc:es256 urn:liboidc:eddsa],
                         ca_file: @idp.ca_file)
    %w[urn:liboidc:es256 urn:liboidc:eddsa].each do |res|
      t = post.client_credentials(scope: "read", resources: [res])
      assert_equal [res], v.validate(t.access_token).audiences
    end
  ensure
    post&.close
    v&.close
  end

  def test_secrets_never_shown
    tok = @oauth.client_credentials(scope: "read", resources: ["urn:liboidc:rs256"])
    [tok.inspect, tok.to_s, tok.pretty_inspect, @oauth.inspect, @oauth.to_s, @oauth.pretty_inspect].each do |s|
      refute_includes s, tok.access_token
      refute_includes s, SECRET
    end
    assert_includes tok.inspect, "[FILTERED]"
    refute(@oauth.instance_variables.any? { |iv| @oauth.instance_variable_get(iv).to_s.include?(SECRET) })
  end

  def test_oauth_errors
    bad = Oidc::OAuthClient.new(issuer: @idp.issuer, client_id: "svc-basic", client_secret: "wrong-#{SECRET}",
                                ca_file: @idp.ca_file)
    e = assert_raises(Oidc::InvalidClient) { bad.client_credentials(scope: "read") }
    assert_kind_of Oidc::OAuthError, e
    assert_equal 402, e.code
    assert_equal "invalid_client", e.oauth_error
    assert_equal 401, e.details["status"]
    refute_includes e.message, SECRET
    refute_includes e.inspect, SECRET

    e = assert_raises(Oidc::InvalidTarget) { @oauth.client_credentials(resources: ["urn:liboidc:nope"]) }
    assert_equal "invalid_target", e.oauth_error
  ensure
    bad&.close
  end

  def test_token_endpoint_unreachable
    c = Oidc::OAuthClient.new(issuer: "https://127.0.0.1:9", client_id: "x", client_secret: "y",
                              connect_timeout: 0.5, timeout: 1)
    assert_raises(Oidc::NetworkError) { c.client_credentials }
  ensure
    c&.close
  end
end

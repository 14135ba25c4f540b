# frozen_string_literal: true

require_relative "test_helper"
require "digest"
require "base64"
require "pp"

# The endpoint half of the protocol client against the real oidc-provider: PKCE, authorization
# URL + scripted login + response parsing, ID token, UserInfo, introspection, revocation, PAR,
# end-session URL, dynamic registration.
class OAuthEndpointsTest < Minitest::Test
  include TestSupport

  CB = "http://127.0.0.1/cb"

  def setup
    @idp = Idp.instance(self)
    @web = Oidc::OAuthClient.new(issuer: @idp.issuer, client_id: "web-app", client_secret: "web-app-secret",
                                 ca_file: @idp.ca_file)
  end

  def teardown
    @web&.close
  end

  # A verifier/challenge pair made by the caller (the request then carries only the challenge).
  def own_pkce
    verifier = Base64.urlsafe_encode64(SecureRandom.random_bytes(32), padding: false)
    [verifier, Base64.urlsafe_encode64(Digest::SHA256.digest(verifier), padding: false)]
  end

  def code_flow
    verifier, challenge = own_pkce
    req = @web.authorization_url(redirect_uri: CB, scope: %w[openid email profile], code_challenge: challenge,
                                 max_age: 600)
    assert req.url.start_with?(@idp.issuer)
    assert_includes req.url, "code_challenge=#{challenge}"
    refute_nil req.state
    refute_nil req.nonce
    redirect = @idp.browser.authorize(req.url)
    resp = @web.parse_authorization_response(redirect, expected_state: req.state)
    assert_equal @idp.issuer, resp.iss
    refute resp.jarm?
    refute_includes resp.inspect, resp.code
    tokens = @idp.exchange_code(client_id: "web-app", secret: "web-app-secret", code: resp.code,
                                redirect_uri: CB, verifier: verifier)
    [req, redirect, resp, tokens]
  end

  def test_code_flow_id_token_userinfo_introspection_revocation
    req, redirect, resp, tokens = code_flow
    id_token = tokens.fetch("id_token")
    at = tokens.fetch("access_token")
    rt = tokens.fetch("refresh_token")

    claims = @web.validate_id_token(id_token, nonce: req.nonce, access_token: at, code: resp.code, max_age: 600)
    assert_equal "user-1", claims.subject
    assert_equal ["web-app"], claims.audiences
    assert_raises(Oidc::NonceMismatch) { @web.validate_id_token(id_token, nonce: "other") }
    if claims.key?("at_hash")
      assert_raises(Oidc::HashMismatch) { @web.validate_id_token(id_token, access_token: "not-the-token") }
    end
    assert_raises(Oidc::TokenMalformed) { @web.validate_id_token("garbage") }

    ui = @web.userinfo(at, expected_subject: claims.subject)
    assert_equal "user-1@liboidc.test", ui["email"]
    assert_raises(Oidc::SubjectMismatch) { @web.userinfo(at, expected_subject: "someone-else") }
    e = assert_raises(Oidc::InvalidToken) { @web.userinfo("not-a-valid-access-token") }
    assert_kind_of Oidc::OAuthError, e
    refute_includes e.message, "not-a-valid-access-token"

    i = @web.introspect(at, token_type_hint: "access_token")
    assert i.active?
    assert_equal "user-1", i.subject
    j = @web.introspect(at, signed: true)
    assert j.active?
    assert_equal "web-app", j.client_id
    assert @web.introspect(rt, token_type_hint: "refresh_token").active?
    assert_nil @web.revoke(at, token_type_hint: "access_token")
    refute @web.introspect(at).active?
    @web.revoke(rt)
    refute @web.introspect(rt).active?
    @web.revoke("never-issued") # RFC 7009 §2.2: not an error

    assert_raises(Oidc::StateMismatch) { @web.parse_authorization_response(redirect, expected_state: "another") }
    no_iss = redirect.split("&").reject { |p| p.start_with?("iss=") }.join("&")
    assert_raises(Oidc::ResponseIssuerMismatch) { @web.parse_authorization_response(no_iss, expected_state: req.state) }
  end

  def test_error_response_and_bad_client
    err = "#{CB}?error=access_denied&error_description=user+said+no&state=s1&iss=#{URI.encode_www_form_component(@idp.issuer)}"
    e = assert_raises(Oidc::AccessDenied) { @web.parse_authorization_response(err, expected_state: "s1") }
    assert_equal "access_denied", e.oauth_error
    assert_equal "user said no", e.error_description
    bad = Oidc::OAuthClient.new(issuer: @idp.issuer, client_id: "web-app", client_secret: "wrong-secret",
                                ca_file: @idp.ca_file)
    e = assert_raises(Oidc::InvalidClient) { bad.introspect("whatever") }
    refute_includes e.message, "wrong-secret"
    assert_raises(Oidc::InvalidClient) { bad.revoke("whatever") }
  ensure
    bad&.close
  end

  def test_par_and_end_session
    _verifier, challenge = own_pkce
    par = @web.push_authorization_request(redirect_uri: CB, scope: %w[openid], code_challenge: challenge)
    assert_match(/\Aurn:ietf:params:oauth:request_uri:/, par.request_uri)
    assert_operator par.expires_in, :>, 0
    url = @web.authorization_url(request_uri: par.request_uri).url
    assert_includes url, "request_uri="
    assert_includes url, "client_id=web-app"
    logout = @web.end_session_url(post_logout_redirect_uri: "http://127.0.0.1/logout-cb", state: "bye")
    assert logout.start_with?(@idp.issuer)
    assert_includes logout, "client_id=web-app"
    assert_includes logout, "state=bye"
    assert_raises(ArgumentError) { @web.authorization_url(max_age: "nope") }
  end

  def test_dynamic_registration
    reg = Oidc::OAuthClient.register(issuer: @idp.issuer, ca_file: @idp.ca_file,
                                     metadata: { redirect_uris: ["https://127.0.0.1/cb"],
                                                 grant_types: %w[client_credentials],
                                                 response_types: [],
                                                 token_endpoint_auth_method: "client_secret_basic" })
    refute_nil reg.client_id
    refute_nil reg.client_secret
    [reg.inspect, reg.to_s, reg.pretty_inspect].each do |s|
      refute_includes s, reg.client_secret
      refute_includes s, reg.registration_access_token if reg.registration_access_token
    end
    c = Oidc::OAuthClient.new(issuer: @idp.issuer, client_id: reg.client_id, client_secret: reg.client_secret,
                              ca_file: @idp.ca_file)
    tok = c.client_credentials
    refute_nil tok.access_token
    e = assert_raises(Oidc::InvalidClientMetadata) do
      Oidc::OAuthClient.register(issuer: @idp.issuer, ca_file: @idp.ca_file,
                                 metadata: { redirect_uris: ["https://127.0.0.1/cb"], token_endpoint_auth_method: "bogus" })
    end
    assert_kind_of Oidc::OAuthError, e
    assert_raises(Oidc::InvalidArgument) do
      Oidc::OAuthClient.register(issuer: @idp.issuer, ca_file: @idp.ca_file, metadata: "[1]")
    end
  ensure
    c&.close
  end

  # RFC 7592 client configuration (new with the request object): read, update, delete, by the
  # registered client (a client without client_id can only register).
  def test_registration_management
    anon = Oidc::OAuthClient.new(issuer: @idp.issuer, ca_file: @idp.ca_file)
    md = { redirect_uris: ["https://127.0.0.1/cb"], grant_types: %w[client_credentials], response_types: [],
           token_endpoint_auth_method: "client_secret_basic" }
    reg = anon.register(metadata: md, params: { client_name: "before" })
    assert_equal "before", reg["client_name"]
    refute_nil reg.registration_client_uri
    refute_nil reg.registration_access_token
    assert_raises(Oidc::InvalidConfig) { anon.registration_read(reg) }
    c = Oidc::OAuthClient.new(issuer: @idp.issuer, ca_file: @idp.ca_file, client_id: reg.client_id,
                              client_secret: reg.client_secret)
    read = c.registration_read(reg)
    assert_equal reg.client_id, read.client_id
    up = c.registration_update(reg, metadata: md.merge(client_id: reg.client_id, client_name: "after"))
    assert_equal "after", up["client_name"]
    assert_nil c.registration_delete(reg)
    assert_raises(Oidc::Error) { c.registration_read(reg) }
    assert_raises(TypeError) { c.registration_read("not a registration") }
  ensure
    anon&.close
    c&.close
  end
end
